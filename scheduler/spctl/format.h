/*
 * format.h - spctl's human output, generic over the admin reply: a "print"
 * member is printed as is; "items" (array of objects) becomes a table,
 * under its "title" if any; "lines" (log lines) are printed one per line;
 * anything else becomes aligned "key: value" lines with nested blocks
 * indented and arrays of objects as tables. A reply with "items" and other
 * arrays besides (a report, such as queue stats) is shown the latter way,
 * "items" labelled by its "title".
 */
#ifndef SP_SPCTL_FORMAT_H
#define SP_SPCTL_FORMAT_H

#include "json.h"
#include "strbuf.h"

/* Appends the human form of reply (a parsed {"ok":true,...}) to out. */
void format_reply(struct strbuf *out, const struct json *reply);
/* Appends a table of the objects in arr (header = first object's keys). */
void format_table(struct strbuf *out, const struct json *arr, int indent);

#endif
