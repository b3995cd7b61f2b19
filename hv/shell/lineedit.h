/* Line editing for the serial console, fed one byte at a time.
 *
 * Handles backspace/delete, cursor movement (arrows, Ctrl-A/E), Ctrl-U/W/C,
 * history (up/down), CR, LF and CRLF line ends, and ANSI escape sequences.
 * Bytes that are neither printable nor editing keys are counted and dropped;
 * so are characters past the line limit. The caller learns about both when
 * the line ends, so it can answer with an error instead of a half command. */
#ifndef HV_SHELL_LINEEDIT_H
#define HV_SHELL_LINEEDIT_H

#include <stdbool.h>
#include <stddef.h>

#define LINE_MAX_CHARS 255
#define LINE_HISTORY 16

typedef void (*line_echo_fn)(void *ctx, const char *s, size_t n);

enum line_event {
	LINE_NONE,      /* keep feeding */
	LINE_READY,     /* a line ended: see text, dropped, overflow */
	LINE_CANCELLED, /* Ctrl-C */
};

struct line_editor {
	char text[LINE_MAX_CHARS + 1];
	size_t len, cursor;
	size_t dropped;    /* invalid bytes dropped from this line */
	size_t overflow;   /* printable bytes past LINE_MAX_CHARS */
	bool last_was_cr;
	int esc_state;     /* 0 none, 1 after ESC, 2 in CSI/SS3 */
	char esc_buf[8];
	size_t esc_len;
	char history[LINE_HISTORY][LINE_MAX_CHARS + 1];
	size_t history_count, history_pos; /* pos == count: editing a new line */
	bool echo;
	line_echo_fn out;
	void *ctx;
};

void line_init(struct line_editor *le, line_echo_fn out, void *ctx, bool echo);
enum line_event line_feed(struct line_editor *le, unsigned char byte);
/* Clears the line state after the caller consumed a LINE_READY/CANCELLED. */
void line_reset(struct line_editor *le);
/* Adds the current text to the history (not when empty or a repeat). */
void line_remember(struct line_editor *le);
/* Reprints the partial line (after async output erased it). */
void line_redraw(struct line_editor *le);

#endif
