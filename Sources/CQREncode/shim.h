#ifndef FIELDSYNC_CQRENCODE_SHIM_H
#define FIELDSYNC_CQRENCODE_SHIM_H
// Debian's libqrencode (libqrencode-dev). Its API is plain C without variadic functions or
// cast macros, so Swift calls it directly; this header only names it for the module map.
#include <qrencode.h>

#endif
