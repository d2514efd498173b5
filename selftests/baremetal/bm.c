// SPDX-License-Identifier: GPL-2.0-only
/*
 * The library of the bare-metal tests (bm.h).  Output goes to COM1, which
 * QEMU's serial port sends out without any set-up; the exit status goes
 * to isa-debug-exit at port 0xf4, where QEMU exits with (status << 1) | 1.
 */
#include <stdarg.h>

#include "bm.h"

#define COM1		0x3f8
#define DEBUG_EXIT	0xf4

static int tap_number, tap_failed;

void *memset(void *s, int c, size_t n)
{
	uint8_t *p = s;

	while (n--)
		*p++ = c;
	return s;
}

static void put_char(char c)
{
	if (c == '\n')
		outb(COM1, '\r');
	outb(COM1, c);
}

static void put_str(const char *s)
{
	while (*s)
		put_char(*s++);
}

static void put_num(uint64_t v, unsigned int base, bool neg)
{
	char buf[24];
	int i = 0;

	if (neg)
		put_char('-');
	do {
		buf[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (i--)
		put_char(buf[i]);
}

/* %s %c %d %u %x with an optional l or ll; enough for test messages. */
static void bm_vprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		bool is_long = false;
		int64_t sv;

		if (*fmt != '%') {
			put_char(*fmt);
			continue;
		}
		fmt++;
		while (*fmt == 'l') {
			is_long = true;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			put_str(va_arg(ap, const char *));
			break;
		case 'c':
			put_char(va_arg(ap, int));
			break;
		case 'd':
			sv = is_long ? va_arg(ap, int64_t) : va_arg(ap, int);
			put_num(sv < 0 ? -(uint64_t)sv : (uint64_t)sv, 10, sv < 0);
			break;
		case 'u':
			put_num(is_long ? va_arg(ap, uint64_t) :
				va_arg(ap, unsigned int), 10, false);
			break;
		case 'x':
			put_num(is_long ? va_arg(ap, uint64_t) :
				va_arg(ap, unsigned int), 16, false);
			break;
		case '%':
			put_char('%');
			break;
		default:
			put_char('?');
			break;
		}
	}
}

void bm_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bm_vprintf(fmt, ap);
	va_end(ap);
}

void bm_exit(int status)
{
	outl(DEBUG_EXIT, status);
	for (;;)
		asm volatile("cli; hlt");
}

void tap_plan(int n)
{
	bm_printf("TAP version 13\n1..%d\n", n);
}

void tap_result(bool ok, const char *fmt, ...)
{
	va_list ap;

	tap_number++;
	if (!ok)
		tap_failed++;
	bm_printf("%s %d ", ok ? "ok" : "not ok", tap_number);
	va_start(ap, fmt);
	bm_vprintf(fmt, ap);
	va_end(ap);
	put_char('\n');
}

void tap_skip_all(const char *why)
{
	bm_printf("TAP version 13\n1..0 # SKIP %s\n", why);
	bm_exit(4);
}

/* 0 when every case passed; 1 otherwise (QEMU then exits with 1 or 3). */
int tap_exit_status(void)
{
	bm_printf("# Totals: pass:%d fail:%d\n", tap_number - tap_failed,
		  tap_failed);
	return tap_failed ? 1 : 0;
}

static uint64_t bm_db_idt[2 * 256] __aligned(16);

void bm_load_db_idt(const char *handler)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(bm_db_idt) - 1,
					   (uint64_t)bm_db_idt };
	uint64_t h = (uint64_t)handler;

	memset(bm_db_idt, 0, sizeof(bm_db_idt));
	/* 64-bit interrupt gate for vector 1, selector 0x08 */
	bm_db_idt[2] = (h & 0xffff) | (0x08ull << 16) | (0x8e00ull << 32) |
		       ((h & 0xffff0000ull) << 32);
	bm_db_idt[3] = h >> 32;
	asm volatile("lidt %0" : : "m" (idtr));
}
