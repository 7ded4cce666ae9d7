/* sha256: SHA-256 (FIPS 180-4), for the Redis names of client-made keys:
 * fixed length whatever the key, and no key can name another's. Pure;
 * checked against the standard's test vectors (test_sha256). */
#ifndef AR_SHA256_H
#define AR_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 {
	uint32_t state[8];
	uint64_t bytes; /* hashed so far */
	unsigned char block[64];
	size_t used; /* bytes of block filled */
};

void sha256_init(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *data, size_t len);
/* The digest; h must be initialised again before another use. */
void sha256_final(struct sha256 *h, unsigned char out[SHA256_LEN]);

#endif
