/*
 * fuzz.h - what the fuzz targets (tests/fuzz/fuzz_*.c) share: the libFuzzer
 * entry points, a reader that takes structured values off the front of an
 * input, a private temporary directory, and a fixed signing key.
 *
 * Every target defines LLVMFuzzerTestOneInput (and LLVMFuzzerInitialize
 * when it needs set-up). The same object file is linked two ways: with
 * clang's libFuzzer (`make fuzz`) and with replay_main.c, which feeds it
 * the corpus and crash files under gcc's ASan+UBSan (`make check`).
 * A target must be deterministic for a given input, free what it
 * allocates per input, and write only below fz_tmpdir().
 */
#ifndef SP_FUZZ_H
#define SP_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sign.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input, consumed from the front. Past its end every value is zero and
 * every chunk empty, so a target never needs to check the length first. */
struct fz_in {
	const uint8_t *p;
	size_t n;
};

uint8_t fz_u8(struct fz_in *in);
uint16_t fz_u16(struct fz_in *in);
uint64_t fz_u64(struct fz_in *in);
/* A chunk of up to max bytes: a u16 length, then that many bytes (fewer
 * at the end of the input). Points into the input. */
size_t fz_chunk(struct fz_in *in, size_t max, const uint8_t **out);
/* The same as a malloc'd NUL-terminated string (caller frees); a NUL byte
 * in it ends the string early. */
char *fz_str(struct fz_in *in, size_t max);
/* Everything that is left. */
size_t fz_rest(struct fz_in *in, const uint8_t **out);

/* Calls fn for each '\n'-separated line of data (the last one may have no
 * newline), at most max lines; stops early if fn returns non-zero. */
typedef int (*fz_line_fn)(const char *line, size_t len, void *ctx);
void fz_lines(const uint8_t *data, size_t size, size_t max, fz_line_fn fn,
	      void *ctx);

/* A directory of this process's own, made on first use and removed with
 * everything in it at exit: under $SP_FUZZ_TMPDIR if set, else /dev/shm
 * (fsync is cheap there: a store's WAL syncs cost nothing), else $TMPDIR
 * or /tmp. A crash leaves it behind (sp-fuzz-<target>-<pid>). */
const char *fz_tmpdir(void);
/* Removes everything inside dir (not dir itself). */
void fz_empty_dir(const char *dir);
/* Writes data to path (created or truncated, mode 0600). 0 / -1. */
int fz_write_file(const char *path, const void *data, size_t len);

/* Writes data as the file name in fz_tmpdir() and returns its path (kept
 * until the next call). */
const char *fz_as_file(const char *name, const uint8_t *data, size_t size);

/* Fails (fz_fail) unless err is a refusal as the house style wants it:
 * one line, not empty, starting with prefix. */
void fz_check_refusal(const char *err, const char *prefix);

/* The one signing key every target uses, so that an input signed by it
 * (a crash file) verifies again in a later run. Never NULL. */
struct sign_key *fz_key(void);
void fz_pub(uint8_t pub[SIGN_PUB_LEN]);

/* Reports a broken property of the code under test ("round trip differs:
 * ...") on stderr and aborts, which both drivers record as a crash. */
void fz_fail(const char *fmt, ...) SP_PRINTF(1, 2) SP_NORETURN;

/* Whether replay_main.c is running the target (over many files, where
 * each input should start from the same state) rather than libFuzzer. */
bool fz_replaying(void);

#endif
