/*
 * spool_disk.h - the byte layout of the telemetry spool (see spool.h for
 * the behaviour): segment file headers, framed records, the state file,
 * and the scan that walks a segment image, verifies each record and tells
 * torn tails from corruption in the middle. Pure functions over buffers:
 * no I/O here, so the parser can be fuzzed on its own.
 *
 * All integers are little-endian. Version 1:
 *
 *   segment header (24 bytes)      record (28-byte header + payload)
 *    0 "SPSG"                        0 "SPRC"
 *    4 u16 version = 1               4 u32 payload length
 *    6 u8  lane ('k', 'l', 'm')      8 u8  kind      9 u8 flags
 *    7 u8  0                        10 u16 0
 *    8 u64 first seq (= file name)  12 u64 seq
 *   16 u32 0                        20 u32 crc32 of bytes 0..19
 *   20 u32 crc32 of bytes 0..19     24 u32 crc32 of the payload
 *
 *   state file (28 bytes): "SPST", u16 version = 1, u16 0, u64 acked seq,
 *   u64 seq floor (every seq ever handed out is below it), u32 crc32 of
 *   bytes 0..23.
 *
 * The record header has its own checksum so that a scan can resynchronise
 * after damage by looking for the next offset where a header verifies
 * (cheap: a 4-byte magic test first), instead of trusting a length that
 * may itself be the damaged field.
 */
#ifndef SP_SPOOL_DISK_H
#define SP_SPOOL_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPOOL_DISK_VERSION 1
#define SPOOL_SEG_HDR 24
#define SPOOL_REC_HDR 28
#define SPOOL_STATE_LEN 28
/* Largest payload; a header claiming more is damage ("insane length"). */
#define SPOOL_DISK_MAX_PAYLOAD (16u << 20)

/* Lanes: which segment files a record goes to. Records that may never be
 * dropped share one lane, so dropping is deleting whole files. */
enum spool_lane { SPOOL_LANE_KEEP, SPOOL_LANE_LOG, SPOOL_LANE_METRIC };
#define SPOOL_LANES 3

/* The lane's letter in file names and segment headers; '?' if invalid. */
char spool_lane_char(int lane);
/* The lane for a letter, or -1. */
int spool_lane_from_char(int c);
/* The lane of a record of this kind and flags (spool.h values). */
int spool_lane_of(int kind, unsigned flags);

void spool_disk_put_seg_hdr(uint8_t out[SPOOL_SEG_HDR], int lane,
			    uint64_t first_seq);
/* True if buf (len bytes) starts with a valid segment header; sets *lane
 * and *first_seq. */
bool spool_disk_seg_hdr_ok(const uint8_t *buf, size_t len, int *lane,
			   uint64_t *first_seq);

/* Fills the record header for payload (len bytes). */
void spool_disk_put_rec_hdr(uint8_t out[SPOOL_REC_HDR], int kind,
			    unsigned flags, uint64_t seq, const void *payload,
			    size_t len);

struct spool_disk_rec {
	uint64_t seq;
	uint32_t len; /* payload bytes */
	uint8_t kind, flags;
	const uint8_t *payload; /* points into the buffer given to parse */
};

enum spool_disk_parse {
	SPOOL_REC_OK,
	SPOOL_REC_BAD_HEADER,  /* no verifiable header here */
	SPOOL_REC_SHORT,       /* header fine, payload runs past the end */
	SPOOL_REC_BAD_PAYLOAD, /* header fine, payload checksum wrong */
};

/* Parses the record at buf (avail bytes there). On anything but
 * BAD_HEADER, *r holds the header fields. */
enum spool_disk_parse spool_disk_parse_rec(const uint8_t *buf, size_t avail,
					   struct spool_disk_rec *r);

struct spool_disk_scan_ops {
	/* Each good record, in file order, at offset off. */
	void (*record)(void *ctx, const struct spool_disk_rec *r, uint64_t off);
	/* Each skipped region: a damaged record or garbage. */
	void (*corrupt)(void *ctx, uint64_t off, uint64_t len, const char *why);
	void *ctx;
};

struct spool_disk_scan {
	bool header_ok;	   /* the segment header verified */
	bool torn;	   /* tail only: damage at the end, nothing after */
	uint64_t keep_len; /* tail: truncate to this; otherwise the size */
	unsigned corrupt;  /* regions reported through ops->corrupt */
	uint64_t max_seq;  /* highest good seq, 0 if none */
};

/* Walks a segment image of size bytes named (lane, name_seq). Records must
 * belong to the lane and have strictly increasing seqs >= name_seq; one
 * that verifies but breaks that order is reported as corrupt. With is_tail
 * (the segment appends went to), damage with no good record after it is a
 * torn write: it is not reported as corrupt, res->torn is set and
 * res->keep_len says where to cut. Never reads outside map. */
void spool_disk_scan(const uint8_t *map, uint64_t size, int lane,
		     uint64_t name_seq, bool is_tail,
		     const struct spool_disk_scan_ops *ops,
		     struct spool_disk_scan *res);

void spool_disk_put_state(uint8_t out[SPOOL_STATE_LEN], uint64_t acked,
			  uint64_t floor);
/* 0 and the fields, or -1 if buf is not a valid state file. */
int spool_disk_get_state(const uint8_t *buf, size_t len, uint64_t *acked,
			 uint64_t *floor);

#endif
