#include "CMicroHTTPDShim.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>

static void fs_mhd_log_trampoline(void *cls, const char *format, va_list arguments) {
    const fs_mhd_logger *logger = cls;
    char message[1024];
    vsnprintf(message, sizeof message, format, arguments);
    logger->function(logger->context, message);
}

struct MHD_Daemon *fs_mhd_start_daemon(const fs_mhd_daemon_config *config) {
    /* poll(), not epoll: MHD_quiesce_daemon (graceful stop) on an epoll daemon with internal
       threads races with the workers' own removal of the listen socket from their epoll sets,
       and the loser aborts the process ("Failed to remove listen FD from epoll set"). With poll
       the workers learn of the quiesce through the inter-thread channel and simply stop polling
       the listen socket. */
    unsigned int flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (config->address->sa_family == AF_INET6) flags |= MHD_USE_IPv6;
    const int tls = config->tls_certificate_pem != NULL && config->tls_key_pem != NULL;
    if (tls) flags |= MHD_USE_TLS;

    struct MHD_OptionItem options[16];
    size_t count = 0;
    options[count++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, (void *)config->address };
    options[count++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE,
        (intptr_t)config->thread_pool_size, NULL };
    options[count++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
        (intptr_t)config->connection_limit, NULL };
    options[count++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
        (intptr_t)config->connection_timeout_seconds, NULL };
    options[count++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (intptr_t)config->connection_memory_limit, NULL };
    options[count++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED,
        (intptr_t)config->completed_handler, config->context };
    options[count++] = (struct MHD_OptionItem){ MHD_OPTION_URI_LOG_CALLBACK,
        (intptr_t)config->uri_handler, config->context };
    if (config->connection_handler != NULL) {
        options[count++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_CONNECTION,
            (intptr_t)config->connection_handler, config->context };
    }
    if (tls) {
        options[count++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0,
            (void *)config->tls_certificate_pem };
        options[count++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0,
            (void *)config->tls_key_pem };
        if (config->tls_priorities != NULL) {
            options[count++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
                (void *)config->tls_priorities };
        }
    }
    options[count++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };

    // The port argument is ignored because MHD_OPTION_SOCK_ADDR carries it; no accept policy.
    // The logger goes first so that messages from option parsing and TLS setup reach it.
    return MHD_start_daemon(flags, 0, NULL, NULL,
                            config->access_handler, config->context,
                            MHD_OPTION_EXTERNAL_LOGGER, fs_mhd_log_trampoline, (void *)config->logger,
                            MHD_OPTION_ARRAY, options,
                            MHD_OPTION_END);
}

uint16_t fs_mhd_daemon_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info == NULL ? 0 : info->port;
}

int fs_mhd_connection_client_address(struct MHD_Connection *connection, char *buffer, size_t capacity) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == NULL || info->client_addr == NULL) return -1;
    const struct sockaddr *address = info->client_addr;
    const void *raw;
    switch (address->sa_family) {
    case AF_INET: raw = &((const struct sockaddr_in *)address)->sin_addr; break;
    case AF_INET6: raw = &((const struct sockaddr_in6 *)address)->sin6_addr; break;
    default: return -1;
    }
    return inet_ntop(address->sa_family, raw, buffer, (socklen_t)capacity) == NULL ? -1 : 0;
}

int fs_mhd_supports_tls(void) {
    return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES;
}

int fs_mhd_connection_fd(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info == NULL ? -1 : (int)info->connect_fd;
}

