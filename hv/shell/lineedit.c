#include "hv/shell/lineedit.h"

#include "hv/lib/string.h"

#define CTRL(c) ((c) & 0x1f)
#define KEY_BACKSPACE 0x08
#define KEY_DEL 0x7f
#define KEY_ESC 0x1b

static void emit(struct line_editor *le, const char *s, size_t n)
{
	if (le->echo && le->out && n)
		le->out(le->ctx, s, n);
}

static void emit_char(struct line_editor *le, char c)
{
	emit(le, &c, 1);
}

static void emit_backs(struct line_editor *le, size_t n)
{
	while (n--)
		emit_char(le, '\b');
}

void line_init(struct line_editor *le, line_echo_fn out, void *ctx, bool echo)
{
	memset(le, 0, sizeof(*le));
	le->out = out;
	le->ctx = ctx;
	le->echo = echo;
}

void line_reset(struct line_editor *le)
{
	le->len = le->cursor = 0;
	le->text[0] = '\0';
	le->dropped = le->overflow = 0;
	le->esc_state = 0;
	le->history_pos = le->history_count;
}

void line_remember(struct line_editor *le)
{
	if (!le->len)
		return;
	if (le->history_count &&
	    !strcmp(le->history[(le->history_count - 1) % LINE_HISTORY], le->text))
		return;
	memcpy(le->history[le->history_count % LINE_HISTORY], le->text, le->len + 1);
	le->history_count++;
}

void line_redraw(struct line_editor *le)
{
	emit(le, le->text, le->len);
	emit_backs(le, le->len - le->cursor);
}

/* Rewrites the screen from the cursor to the end, erasing 'erase' trailing
 * columns that no longer hold text. */
static void refresh_tail(struct line_editor *le, size_t erase)
{
	emit(le, le->text + le->cursor, le->len - le->cursor);
	for (size_t i = 0; i < erase; i++)
		emit_char(le, ' ');
	emit_backs(le, le->len - le->cursor + erase);
}

static void insert_char(struct line_editor *le, char c)
{
	if (le->len >= LINE_MAX_CHARS) {
		le->overflow++;
		return;
	}
	memmove(le->text + le->cursor + 1, le->text + le->cursor, le->len - le->cursor);
	le->text[le->cursor] = c;
	le->len++;
	le->text[le->len] = '\0';
	emit_char(le, c);
	le->cursor++;
	if (le->cursor < le->len)
		refresh_tail(le, 0);
}

static void delete_range(struct line_editor *le, size_t from, size_t n)
{
	if (!n)
		return;
	emit_backs(le, le->cursor - from);
	memmove(le->text + from, le->text + from + n, le->len - from - n);
	le->len -= n;
	le->text[le->len] = '\0';
	le->cursor = from;
	refresh_tail(le, n);
}

static void replace_line(struct line_editor *le, const char *s)
{
	size_t old = le->len;

	emit_backs(le, le->cursor);
	le->len = strlen(s);
	memcpy(le->text, s, le->len + 1);
	le->cursor = le->len;
	emit(le, le->text, le->len);
	if (old > le->len) {
		for (size_t i = le->len; i < old; i++)
			emit_char(le, ' ');
		emit_backs(le, old - le->len);
	}
}

static void history_move(struct line_editor *le, int dir)
{
	size_t oldest = le->history_count > LINE_HISTORY ? le->history_count - LINE_HISTORY : 0;

	if (dir < 0 && le->history_pos > oldest)
		le->history_pos--;
	else if (dir > 0 && le->history_pos < le->history_count)
		le->history_pos++;
	else
		return;
	if (le->history_pos == le->history_count)
		replace_line(le, "");
	else
		replace_line(le, le->history[le->history_pos % LINE_HISTORY]);
}

static void move_cursor(struct line_editor *le, size_t to)
{
	if (to < le->cursor)
		emit_backs(le, le->cursor - to);
	else
		emit(le, le->text + le->cursor, to - le->cursor);
	le->cursor = to;
}

static void handle_escape(struct line_editor *le)
{
	/* esc_buf holds what followed ESC '[' or ESC 'O'. */
	if (le->esc_len == 1) {
		switch (le->esc_buf[0]) {
		case 'A': history_move(le, -1); return;
		case 'B': history_move(le, +1); return;
		case 'C': if (le->cursor < le->len) move_cursor(le, le->cursor + 1); return;
		case 'D': if (le->cursor > 0) move_cursor(le, le->cursor - 1); return;
		case 'H': move_cursor(le, 0); return;
		case 'F': move_cursor(le, le->len); return;
		}
	}
	if (le->esc_len == 2 && le->esc_buf[1] == '~') {
		switch (le->esc_buf[0]) {
		case '3': if (le->cursor < le->len) delete_range(le, le->cursor, 1); return;
		case '1': case '7': move_cursor(le, 0); return;
		case '4': case '8': move_cursor(le, le->len); return;
		}
	}
	/* Anything else (function keys, mouse reports...) is ignored. */
}

static bool feed_escape(struct line_editor *le, unsigned char b)
{
	if (le->esc_state == 1) {
		if (b == '[' || b == 'O') {
			le->esc_state = 2;
			le->esc_len = 0;
			return true;
		}
		le->esc_state = 0; /* ESC + other: a lone ESC; process b normally */
		return false;
	}
	/* In a CSI/SS3 sequence: parameters until a final byte 0x40-0x7e. */
	if (b < 0x20 || b > 0x7e) {
		le->esc_state = 0;
		return false;
	}
	if (le->esc_len < sizeof(le->esc_buf))
		le->esc_buf[le->esc_len++] = (char)b;
	if (b >= 0x40 || le->esc_len == sizeof(le->esc_buf)) {
		le->esc_state = 0;
		handle_escape(le);
	}
	return true;
}

static size_t word_start(const struct line_editor *le)
{
	size_t i = le->cursor;

	while (i > 0 && le->text[i - 1] == ' ')
		i--;
	while (i > 0 && le->text[i - 1] != ' ')
		i--;
	return i;
}

enum line_event line_feed(struct line_editor *le, unsigned char b)
{
	bool after_cr = le->last_was_cr;

	le->last_was_cr = false;
	if (le->esc_state && feed_escape(le, b))
		return LINE_NONE;

	switch (b) {
	case '\r':
		le->last_was_cr = true;
		emit(le, "\r\n", 2);
		return LINE_READY;
	case '\n':
		if (after_cr)
			return LINE_NONE; /* second half of CRLF */
		emit(le, "\r\n", 2);
		return LINE_READY;
	case KEY_BACKSPACE:
	case KEY_DEL:
		if (le->cursor > 0)
			delete_range(le, le->cursor - 1, 1);
		return LINE_NONE;
	case KEY_ESC:
		le->esc_state = 1;
		return LINE_NONE;
	case CTRL('A'): move_cursor(le, 0); return LINE_NONE;
	case CTRL('E'): move_cursor(le, le->len); return LINE_NONE;
	case CTRL('B'): if (le->cursor > 0) move_cursor(le, le->cursor - 1); return LINE_NONE;
	case CTRL('F'): if (le->cursor < le->len) move_cursor(le, le->cursor + 1); return LINE_NONE;
	case CTRL('P'): history_move(le, -1); return LINE_NONE;
	case CTRL('N'): history_move(le, +1); return LINE_NONE;
	case CTRL('U'): delete_range(le, 0, le->cursor); return LINE_NONE;
	case CTRL('W'): {
		size_t from = word_start(le);
		delete_range(le, from, le->cursor - from);
		return LINE_NONE;
	}
	case CTRL('C'):
		emit(le, "^C\r\n", 4);
		return LINE_CANCELLED;
	case '\t':
		insert_char(le, ' ');
		return LINE_NONE;
	default:
		break;
	}
	if (b >= 0x20 && b < 0x7f)
		insert_char(le, (char)b);
	else
		le->dropped++;
	return LINE_NONE;
}
