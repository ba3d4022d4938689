/* A process of its own (not Criterion's, whose libgit2 starts OpenSSL first): initialise HTTP
 * as a worker does, say whether OpenSSL allocates through the wiping allocator, then make
 * HTTPS requests to URL with CA so that its buffers are allocated, moved and freed.
 *   tls_wipe_probe URL CA_FILE  ->  "wiping 1\nok 3\n" */
#include <stdio.h>

#include "tools/http.h"

int
main(int argc, char **argv)
{
	struct http_endpoint ep = { .timeout_ms = 3000 };
	struct http_client *c;
	int ok = 0;

	if (argc != 3 || http_global_init() < 0)
		return 2;
	printf("wiping %d\n", http_tls_wiping());
	ep.url = argv[1];
	ep.ca_file = argv[2];
	if (http_client_new(NULL, NULL, &c) < 0)
		return 2;
	for (int i = 0; i < 3; i++) {
		struct http_resp resp;
		struct tool_err err;
		struct http_req req;

		http_req_init(&req, "GET");
		http_path_add(&req, "/v1/echo");
		ok += http_client_do(c, &ep, &req, 0, &resp, &err) == 0;
		http_resp_clear(&resp);
	}
	http_client_free(c);
	printf("ok %d\nwiping %d\n", ok, http_tls_wiping());
	return 0;
}
