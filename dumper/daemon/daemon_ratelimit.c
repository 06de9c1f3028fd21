/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dumper/daemon/daemon_ratelimit.h"

struct domain_events {
    char *name;
    int64_t *times;     /* ring of the last max_events allowed events */
    unsigned n, next;
    int64_t last_seen;
};

struct hvd_ratelimit {
    unsigned max_events, max_domains;
    int64_t window;
    GHashTable *domains;    /* name -> struct domain_events */
};

static void events_free(gpointer p)
{
    struct domain_events *e = p;
    g_free(e->name);
    g_free(e->times);
    g_free(e);
}

struct hvd_ratelimit *hvd_ratelimit_new(unsigned max_events, int64_t window_usec,
                                        unsigned max_domains)
{
    struct hvd_ratelimit *r = g_new0(struct hvd_ratelimit, 1);
    r->max_events = max_events;
    r->window = window_usec;
    r->max_domains = max_domains ? max_domains : 1;
    r->domains = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, events_free);
    return r;
}

void hvd_ratelimit_free(struct hvd_ratelimit *r)
{
    if (!r)
        return;
    g_hash_table_destroy(r->domains);
    g_free(r);
}

static void forget_least_recent(struct hvd_ratelimit *r)
{
    GHashTableIter it;
    gpointer v;
    struct domain_events *oldest = NULL;
    g_hash_table_iter_init(&it, r->domains);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct domain_events *e = v;
        if (!oldest || e->last_seen < oldest->last_seen)
            oldest = e;
    }
    if (oldest)
        g_hash_table_remove(r->domains, oldest->name);
}

gboolean hvd_ratelimit_allow(struct hvd_ratelimit *r, const char *domain, int64_t now_usec)
{
    if (!r->max_events)
        return TRUE;
    struct domain_events *e = g_hash_table_lookup(r->domains, domain);
    if (!e) {
        if (g_hash_table_size(r->domains) >= r->max_domains)
            forget_least_recent(r);
        e = g_new0(struct domain_events, 1);
        e->name = g_strdup(domain);
        e->times = g_new0(int64_t, r->max_events);
        g_hash_table_insert(r->domains, e->name, e);
    }
    e->last_seen = now_usec;
    /* The ring is full and its oldest entry is still inside the window:
     * max_events already happened in it. */
    if (e->n == r->max_events && now_usec - e->times[e->next] < r->window)
        return FALSE;
    e->times[e->next] = now_usec;
    e->next = (e->next + 1) % r->max_events;
    if (e->n < r->max_events)
        e->n++;
    return TRUE;
}
