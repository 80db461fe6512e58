/* connstats.c - the transports' published connection counters. */
#include "connstats.h"

#include <pthread.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct connstats slots[CONNSTATS_KINDS];

void connstats_publish(enum connstats_kind kind, const struct connstats *s)
{
	pthread_mutex_lock(&lock);
	slots[kind] = *s;
	pthread_mutex_unlock(&lock);
}

void connstats_read(enum connstats_kind kind, struct connstats *out)
{
	pthread_mutex_lock(&lock);
	*out = slots[kind];
	pthread_mutex_unlock(&lock);
}
