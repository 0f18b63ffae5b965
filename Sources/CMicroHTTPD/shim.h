#ifndef FIELDSYNC_CMICROHTTPD_SHIM_H
#define FIELDSYNC_CMICROHTTPD_SHIM_H
// Debian's libmicrohttpd (0.9.75). Its variadic functions (MHD_start_daemon, MHD_get_daemon_info,
// MHD_get_connection_info) are wrapped by the CMicroHTTPDShim C target.
#include <sys/types.h>
#include <sys/socket.h>
#include <stdint.h>
#include <microhttpd.h>
#endif
