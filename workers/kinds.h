/* Kind plug-ins for the worker runtime (one file per kind). */
#ifndef CORRAL_WORKERS_KINDS_H
#define CORRAL_WORKERS_KINDS_H

#include "workers/runtime.h"

struct http_client;

struct kind_thread {		/* per pool thread state of a kind */
	struct http_client *http;
};

extern const struct wrk_kind_ops wrk_kind_http;
extern const struct wrk_kind_ops wrk_kind_model;	/* workers/modelkind.c */

#endif
