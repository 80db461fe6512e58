/* spool_disk.c - encoding, parsing and scanning spool segments. */
#include "spool_disk.h"

#include <string.h>
#include <zlib.h>

#include "spool.h"

static const uint8_t seg_magic[4] = {'S', 'P', 'S', 'G'};
static const uint8_t rec_magic[4] = {'S', 'P', 'R', 'C'};
static const uint8_t state_magic[4] = {'S', 'P', 'S', 'T'};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* zlib's crc32 takes a uInt length; payloads are far below 4 GiB. */
static uint32_t crc(const void *buf, size_t len)
{
	return (uint32_t)crc32(crc32(0, Z_NULL, 0), buf, (uInt)len);
}

char spool_lane_char(int lane)
{
	static const char letters[SPOOL_LANES] = {'k', 'l', 'm'};
	return lane >= 0 && lane < SPOOL_LANES ? letters[lane] : '?';
}

int spool_lane_from_char(int c)
{
	for (int lane = 0; lane < SPOOL_LANES; lane++)
		if (spool_lane_char(lane) == c)
			return lane;
	return -1;
}

int spool_lane_of(int kind, unsigned flags)
{
	switch (kind) {
	case SPOOL_EVENT:
		return flags == 0 ? SPOOL_LANE_KEEP : -1;
	case SPOOL_LOG:
		if (flags & ~(unsigned)SPOOL_FINAL)
			return -1;
		return flags & SPOOL_FINAL ? SPOOL_LANE_KEEP : SPOOL_LANE_LOG;
	case SPOOL_METRIC:
		return flags == 0 ? SPOOL_LANE_METRIC : -1;
	default:
		return -1;
	}
}

void spool_disk_put_seg_hdr(uint8_t out[SPOOL_SEG_HDR], int lane,
			    uint64_t first_seq)
{
	memcpy(out, seg_magic, 4);
	put16(out + 4, SPOOL_DISK_VERSION);
	out[6] = (uint8_t)spool_lane_char(lane);
	out[7] = 0;
	put64(out + 8, first_seq);
	put32(out + 16, 0);
	put32(out + 20, crc(out, 20));
}

bool spool_disk_seg_hdr_ok(const uint8_t *buf, size_t len, int *lane,
			   uint64_t *first_seq)
{
	if (len < SPOOL_SEG_HDR || memcmp(buf, seg_magic, 4) != 0 ||
	    get32(buf + 20) != crc(buf, 20) ||
	    get16(buf + 4) != SPOOL_DISK_VERSION || buf[7] != 0 ||
	    get32(buf + 16) != 0)
		return false;
	*lane = spool_lane_from_char(buf[6]);
	*first_seq = get64(buf + 8);
	return *lane >= 0;
}

void spool_disk_put_rec_hdr(uint8_t out[SPOOL_REC_HDR], int kind,
			    unsigned flags, uint64_t seq, const void *payload,
			    size_t len)
{
	memcpy(out, rec_magic, 4);
	put32(out + 4, (uint32_t)len);
	out[8] = (uint8_t)kind;
	out[9] = (uint8_t)flags;
	put16(out + 10, 0);
	put64(out + 12, seq);
	put32(out + 20, crc(out, 20));
	put32(out + 24, crc(payload, len));
}

enum spool_disk_parse spool_disk_parse_rec(const uint8_t *buf, size_t avail,
					   struct spool_disk_rec *r)
{
	if (avail < SPOOL_REC_HDR || memcmp(buf, rec_magic, 4) != 0 ||
	    get32(buf + 20) != crc(buf, 20) || get16(buf + 10) != 0)
		return SPOOL_REC_BAD_HEADER;
	r->len = get32(buf + 4);
	r->kind = buf[8];
	r->flags = buf[9];
	r->seq = get64(buf + 12);
	r->payload = buf + SPOOL_REC_HDR;
	if (r->len > SPOOL_DISK_MAX_PAYLOAD ||
	    spool_lane_of(r->kind, r->flags) < 0)
		return SPOOL_REC_BAD_HEADER;
	if (r->len > avail - SPOOL_REC_HDR)
		return SPOOL_REC_SHORT;
	if (get32(buf + 24) != crc(r->payload, r->len))
		return SPOOL_REC_BAD_PAYLOAD;
	return SPOOL_REC_OK;
}

/* The next offset after off where a record header verifies, or size. */
static uint64_t resync(const uint8_t *map, uint64_t size, uint64_t off)
{
	struct spool_disk_rec r;

	for (off++; off + SPOOL_REC_HDR <= size; off++) {
		const uint8_t *hit =
			memchr(map + off, rec_magic[0], (size_t)(size - off));
		if (!hit)
			break;
		off = (uint64_t)(hit - map);
		if (spool_disk_parse_rec(hit, (size_t)(size - off), &r) !=
		    SPOOL_REC_BAD_HEADER)
			return off;
	}
	return size;
}

struct scan {
	const uint8_t *map;
	uint64_t size;
	const struct spool_disk_scan_ops *ops;
	struct spool_disk_scan *res;
	bool is_tail;
	uint64_t bad_start; /* start of the damage being skipped, or UINT64_MAX
			     */
	const char *bad_why;
};

static void report(struct scan *s, uint64_t off, uint64_t len, const char *why)
{
	s->res->corrupt++;
	if (s->ops->corrupt)
		s->ops->corrupt(s->ops->ctx, off, len, why);
}

/* Ends the run of damage that began at bad_start, at off. */
static void close_bad(struct scan *s, uint64_t off)
{
	if (s->bad_start == UINT64_MAX)
		return;
	report(s, s->bad_start, off - s->bad_start, s->bad_why);
	s->bad_start = UINT64_MAX;
}

static void open_bad(struct scan *s, uint64_t off, const char *why)
{
	if (s->bad_start == UINT64_MAX) {
		s->bad_start = off;
		s->bad_why = why;
	}
}

/* Damage from off to the end: a torn write on a tail, else corruption. */
static void end_bad(struct scan *s, uint64_t off, const char *why)
{
	open_bad(s, off, why);
	if (s->is_tail) {
		s->res->torn = true;
		s->res->keep_len = s->bad_start;
		s->bad_start = UINT64_MAX;
	} else {
		close_bad(s, s->size);
	}
}

void spool_disk_scan(const uint8_t *map, uint64_t size, int lane,
		     uint64_t name_seq, bool is_tail,
		     const struct spool_disk_scan_ops *ops,
		     struct spool_disk_scan *res)
{
	struct scan s = {map, size, ops, res, is_tail, UINT64_MAX, NULL};
	uint64_t off = 0, last_seq = 0;
	int hdr_lane;
	uint64_t hdr_seq;

	memset(res, 0, sizeof(*res));
	res->keep_len = size;
	res->header_ok =
		spool_disk_seg_hdr_ok(map, (size_t)size, &hdr_lane, &hdr_seq) &&
		hdr_lane == lane && hdr_seq == name_seq;
	if (res->header_ok)
		off = SPOOL_SEG_HDR;
	else
		open_bad(&s, 0, "bad segment header");
	while (off < size) {
		struct spool_disk_rec r;
		enum spool_disk_parse p = spool_disk_parse_rec(
			map + off, (size_t)(size - off), &r);
		uint64_t end;

		if (p == SPOOL_REC_BAD_HEADER || p == SPOOL_REC_SHORT) {
			uint64_t next = resync(map, size, off);
			if (next == size) {
				end_bad(&s, off,
					p == SPOOL_REC_SHORT
						? "record runs past the end"
						: "bad record header");
				break;
			}
			open_bad(&s, off, "bad record header");
			off = next;
			continue;
		}
		close_bad(&s, off);
		end = off + SPOOL_REC_HDR + r.len;
		if (p == SPOOL_REC_BAD_PAYLOAD && end == size && is_tail) {
			end_bad(&s, off, "bad payload checksum");
			break;
		}
		if (p == SPOOL_REC_BAD_PAYLOAD)
			report(&s, off, end - off, "bad payload checksum");
		else if (spool_lane_of(r.kind, r.flags) != lane ||
			 r.seq < name_seq || r.seq <= last_seq || r.seq == 0)
			report(&s, off, end - off, "record out of place");
		else {
			last_seq = r.seq;
			if (ops->record)
				ops->record(ops->ctx, &r, off);
		}
		off = end;
	}
	res->max_seq = last_seq;
}

void spool_disk_put_state(uint8_t out[SPOOL_STATE_LEN], uint64_t acked,
			  uint64_t floor)
{
	memcpy(out, state_magic, 4);
	put16(out + 4, SPOOL_DISK_VERSION);
	put16(out + 6, 0);
	put64(out + 8, acked);
	put64(out + 16, floor);
	put32(out + 24, crc(out, 24));
}

int spool_disk_get_state(const uint8_t *buf, size_t len, uint64_t *acked,
			 uint64_t *floor)
{
	if (len != SPOOL_STATE_LEN || memcmp(buf, state_magic, 4) != 0 ||
	    get16(buf + 4) != SPOOL_DISK_VERSION || get16(buf + 6) != 0 ||
	    get32(buf + 24) != crc(buf, 24))
		return -1;
	*acked = get64(buf + 8);
	*floor = get64(buf + 16);
	return 0;
}
