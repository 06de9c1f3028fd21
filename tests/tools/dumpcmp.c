/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dumpcmp: checks a vmcore against the raw images it was made from.
 *
 *   dumpcmp [--keep-zero] DUMP IMAGE@GPA...
 *
 * Every page of every image must read back (through formats/reader.h)
 * byte-identical; a page may be ABSENT only when the image page is all zero
 * and --keep-zero is not given.  Every pfn the dump describes as present
 * must lie inside some image, so the dump invents no memory.  Prints a
 * summary; exit 0 when all holds, 1 with the first mismatch named. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/hv_error.h"
#include "formats/reader.h"

struct image {
    const char *path;
    uint64_t gpa;
    uint64_t size;
};

static int usage(void)
{
    fprintf(stderr, "usage: dumpcmp [--keep-zero] DUMP IMAGE@GPA...\n");
    return 2;
}

static gboolean parse_image(const char *arg, struct image *im)
{
    const char *at = strrchr(arg, '@');
    if (!at || at == arg || !at[1])
        return FALSE;
    char *end;
    errno = 0;
    im->gpa = strtoull(at + 1, &end, 0);
    if (errno || *end)
        return FALSE;
    im->path = g_strndup(arg, (gsize)(at - arg));
    struct stat st;
    if (stat(im->path, &st) < 0) {
        fprintf(stderr, "dumpcmp: %s: %s\n", im->path, strerror(errno));
        return FALSE;
    }
    im->size = (uint64_t)st.st_size;
    return TRUE;
}

static gboolean all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return FALSE;
    return TRUE;
}

struct counts {
    uint64_t pages, absent, zero_present;
};

/* Compares one image page by page.  Returns FALSE at the first mismatch. */
static gboolean compare_image(struct hv_vmcore *d, uint32_t ps, const struct image *im,
                              gboolean keep_zero, uint8_t *src, uint8_t *got,
                              struct counts *c)
{
    if (im->gpa % ps || im->size % ps) {
        fprintf(stderr, "dumpcmp: %s@0x%" PRIx64 ": not page aligned\n", im->path, im->gpa);
        return FALSE;
    }
    FILE *f = fopen(im->path, "rb");
    if (!f) {
        fprintf(stderr, "dumpcmp: %s: %s\n", im->path, strerror(errno));
        return FALSE;
    }
    gboolean ok = TRUE;
    for (uint64_t i = 0; ok && i < im->size / ps; i++) {
        uint64_t pfn = im->gpa / ps + i;
        if (fread(src, 1, ps, f) != ps) {
            fprintf(stderr, "dumpcmp: %s: short read\n", im->path);
            ok = FALSE;
            break;
        }
        GError *err = NULL;
        enum hv_read_status st = hv_vmcore_read_page(d, pfn, got, &err);
        gboolean zero = all_zero(src, ps);
        c->pages++;
        if (st == HV_READ_ERROR) {
            fprintf(stderr, "dumpcmp: FAIL pfn 0x%" PRIx64 ": read error: %s\n", pfn,
                    err ? err->message : "(no message)");
            g_clear_error(&err);
            ok = FALSE;
        } else if (st == HV_READ_ABSENT) {
            c->absent++;
            if (!zero || keep_zero) {
                fprintf(stderr, "dumpcmp: FAIL pfn 0x%" PRIx64 ": absent from the dump but %s\n",
                        pfn, zero ? "--keep-zero was given" : "the image page is not zero");
                ok = FALSE;
            }
        } else if (memcmp(src, got, ps) != 0) {
            size_t off = 0;
            while (src[off] == got[off])
                off++;
            fprintf(stderr, "dumpcmp: FAIL pfn 0x%" PRIx64 ": bytes differ at page offset 0x%zx "
                    "(image 0x%02x, dump 0x%02x)\n", pfn, off, src[off], got[off]);
            ok = FALSE;
        } else if (zero) {
            c->zero_present++;
        }
    }
    fclose(f);
    return ok;
}

static const struct image *covering(const struct image *ims, int n, uint64_t addr)
{
    for (int i = 0; i < n; i++)
        if (addr >= ims[i].gpa && addr - ims[i].gpa < ims[i].size)
            return &ims[i];
    return NULL;
}

/* Every pfn of every described range must belong to an image.  Ranges are
 * page aligned, so checking page starts suffices; walk image by image to
 * stay fast on large sparse ranges. */
static gboolean check_ranges(struct hv_vmcore *d, uint32_t ps, const struct image *ims, int n)
{
    size_t nr = 0;
    const struct hv_range *r = hv_vmcore_ranges(d, &nr);
    for (size_t i = 0; i < nr; i++) {
        uint64_t a = r[i].start, end = r[i].start + r[i].size;
        while (a < end) {
            const struct image *im = covering(ims, n, a);
            if (!im) {
                fprintf(stderr, "dumpcmp: FAIL pfn 0x%" PRIx64 ": described by the dump "
                        "(range 0x%" PRIx64 "+0x%" PRIx64 ") but in no image\n",
                        a / ps, r[i].start, r[i].size);
                return FALSE;
            }
            a = im->gpa + im->size;
        }
    }
    return TRUE;
}

int main(int argc, char **argv)
{
    gboolean keep_zero = FALSE;
    int i = 1;
    if (i < argc && strcmp(argv[i], "--keep-zero") == 0) {
        keep_zero = TRUE;
        i++;
    }
    if (argc - i < 2)
        return usage();
    const char *dump_path = argv[i++];
    int n = argc - i;
    struct image *ims = g_new0(struct image, n);
    for (int k = 0; k < n; k++)
        if (!parse_image(argv[i + k], &ims[k])) {
            fprintf(stderr, "dumpcmp: bad image argument '%s' (want FILE@GPA)\n", argv[i + k]);
            return 2;
        }

    GError *err = NULL;
    struct hv_vmcore *d = hv_vmcore_open(dump_path, &err);
    if (!d) {
        fprintf(stderr, "dumpcmp: FAIL %s: %s\n", dump_path, err->message);
        return 1;
    }
    const struct hv_vmcore_facts *info = hv_vmcore_facts(d);
    uint32_t ps = info->page_size;
    uint8_t *src = g_malloc(ps), *got = g_malloc(ps);
    struct counts c = {0};
    gboolean ok = TRUE;
    for (int k = 0; ok && k < n; k++)
        ok = compare_image(d, ps, &ims[k], keep_zero, src, got, &c);
    if (ok)
        ok = check_ranges(d, ps, ims, n);

    printf("dumpcmp: %s: %s format, %" PRIu64 " pages compared, %" PRIu64
           " absent (all zero), %" PRIu64 " zero pages stored: %s\n",
           dump_path, info->format == HV_FORMAT_ELF ? "elf" : "kdump",
           c.pages, c.absent, c.zero_present, ok ? "OK" : "MISMATCH");
    hv_vmcore_close(d);
    g_free(src);
    g_free(got);
    for (int k = 0; k < n; k++)
        g_free((char *)ims[k].path);
    g_free(ims);
    return ok ? 0 : 1;
}
