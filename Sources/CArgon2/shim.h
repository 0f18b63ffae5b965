// Debian's libargon2 (the reference implementation of Argon2, RFC 9106): operator passwords
// of the central node are stored as Argon2id hashes in its encoded form.
#include <argon2.h>
