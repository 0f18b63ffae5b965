#ifndef FIELDSYNC_CMICROHTTPDSHIM_H
#define FIELDSYNC_CMICROHTTPDSHIM_H
// Non-variadic wrappers around libmicrohttpd's variadic functions, which Swift cannot call.
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <microhttpd.h>

/// Receives one formatted libmicrohttpd log message (the library hands out printf-style va_lists).
typedef void (*fs_mhd_log_fn)(void *context, const char *message);

/// The logger's function and context. The caller keeps this memory alive until MHD_stop_daemon returns.
typedef struct fs_mhd_logger {
    fs_mhd_log_fn function;
    void *context;
} fs_mhd_logger;

/// Everything fs_mhd_start_daemon passes to MHD_start_daemon.
typedef struct fs_mhd_daemon_config {
    /// Bind address with the port (AF_INET or AF_INET6); port 0 lets the kernel pick one.
    const struct sockaddr *address;
    unsigned int thread_pool_size;
    unsigned int connection_limit;
    unsigned int connection_timeout_seconds;
    size_t connection_memory_limit;
    /// PEM certificate chain and private key, NUL-terminated; both NULL for plain HTTP.
    /// Kept alive by the caller until MHD_stop_daemon returns.
    const char *tls_certificate_pem;
    const char *tls_key_pem;
    MHD_AccessHandlerCallback access_handler;
    MHD_RequestCompletedCallback completed_handler;
    /// Called with the raw request URI (path and query) before anything else; its result
    /// becomes the request's con_cls, which the completed handler always receives.
    void *(*uri_handler)(void *context, const char *uri, struct MHD_Connection *connection);
    /// Called when a connection is accepted and again just before its socket is closed.
    MHD_NotifyConnectionCallback connection_handler;
    /// The context (cls) for access_handler, completed_handler, uri_handler and connection_handler.
    void *context;
    const fs_mhd_logger *logger;
    /// A GnuTLS priority string for HTTPS (NULL: the library's default). Parsed at start.
    const char *tls_priorities;
} fs_mhd_daemon_config;

/// Starts a daemon in thread-pool mode with internal poll() polling. NULL on failure
/// (the reason goes to the logger).
struct MHD_Daemon *fs_mhd_start_daemon(const fs_mhd_daemon_config *config);

/// The port the daemon listens on, 0 if unknown.
uint16_t fs_mhd_daemon_port(struct MHD_Daemon *daemon);

/// Writes the client's numeric IP address (NUL-terminated) into buffer; returns 0 on
/// success, -1 if it is unknown or does not fit.
int fs_mhd_connection_client_address(struct MHD_Connection *connection, char *buffer, size_t capacity);

/// Whether this libmicrohttpd build supports TLS (GnuTLS).
int fs_mhd_supports_tls(void);

/// The connection's socket, -1 if unknown.
int fs_mhd_connection_fd(struct MHD_Connection *connection);

#endif
