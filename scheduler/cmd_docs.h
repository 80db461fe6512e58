/* cmd_docs.h - spctl's man page and bash completion, made from the
 * scheduler's command table (admin_cmds_table) so that they name every
 * command and flag there is, and no other (bin/sp-docgen prints them). */
#ifndef SP_CMD_DOCS_H
#define SP_CMD_DOCS_H

#include <stdio.h>

/* troff text: '-' as \-, '\' as \e, backquotes dropped, a leading '.' or
 * '\'' made harmless. */
void man_text(FILE *out, const char *s);
/* spctl(1). */
void cmd_docs_man(FILE *out, const char *version);
/* A bash completion script for spctl: commands, then each command's
 * flags. */
void cmd_docs_completion(FILE *out);

#endif
