/* Every cap corral enforces, in one place. Sizes in bytes, times in milliseconds. */
#ifndef CORRAL_IPC_LIMITS_H
#define CORRAL_IPC_LIMITS_H

#define CORRAL_PROTO_VERSION	1

/* --- messages (ipc/) --- */
#define LIM_MSG_MAX		(8u << 20)	/* one nng frame, set as NNG_OPT_RECVMAXSZ */
#define LIM_STR_MAX		(4u << 20)	/* one msgpack str/bin (JSON payloads ride in these) */
#define LIM_NAME_MAX		128u		/* tool, op, tenant, agent, worker names */
#define LIM_ARRAY_MAX		4096u		/* elements in one msgpack array or map */
#define LIM_DEPTH_MAX		16u		/* msgpack nesting */
#define LIM_JSON_DEPTH_MAX	32u		/* JSON args/results nesting */
#define LIM_ARGS_MAX		(256u << 10)	/* JSON args of one call */
#define LIM_RESULT_MAX		(4u << 20)	/* JSON result of one call, as the agent sees it */
#define LIM_LOG_LINE_MAX	2048u		/* one forwarded log line */
#define LIM_ERRMSG_MAX		1024u		/* error text in an error message */
#define LIM_SENDBUF		128		/* nng send queue depth, messages */
#define LIM_CLOSE_DRAIN_MS	2000		/* corrald's exit: wait for channel closes */

/* --- config (supervisor/, policy/, agents/) --- */
#define LIM_CONFIG_FILE_MAX	(4u << 20)	/* one YAML file */
#define LIM_YAML_DEPTH_MAX	64u
#define LIM_YAML_NODES_MAX	200000u
#define LIM_CONFIG_ERRORS_MAX	50u		/* errors reported per file before giving up */

/* --- policy (policy/) --- */
#define LIM_POL_FILES_MAX	64		/* policy files in one set */
#define LIM_POL_RULES_MAX	20000u		/* rules in one set (all files) */
#define LIM_POL_LIST_MAX	256u		/* principals, operations, in-lists, approvers per rule */
#define LIM_POL_WHERE_MAX	32u		/* argument conditions per rule */
#define LIM_POL_REGEX_MAX	1024u		/* bytes of one where regex */
#define LIM_POL_TZ_MAX		32u		/* distinct time zones in one set */
#define LIM_POL_TZIF_MAX	(256u << 10)	/* one TZif file */
#define LIM_POL_RATE_MAX	10000u		/* N in a rate "N/window" */
#define LIM_POL_RATE_KEYS_MAX	100000u		/* (tenant, principal, rule) counters kept */
#define LIM_POL_DECISION_RULES	16u		/* rule ids carried by one decision */
#define LIM_POL_REASON_MAX	512u		/* reason text of one decision */
#define LIM_POL_SAME_MAX	8u		/* evidence "same:" arguments */

/* --- agent files (agents/loader) --- */
#define LIM_AGENT_PROMPT_MAX	(256u << 10)	/* system prompt bytes */
#define LIM_AGENT_TOOLS_MAX	64u		/* entries in tools: */
#define LIM_AGENT_CONFIG_MAX	256u		/* entries in config: + environment: */
#define LIM_AGENT_VALUE_MAX	(16u << 10)	/* one config string after ${VAR} expansion */
#define LIM_AGENT_LABELS_MAX	64u
#define LIM_AGENT_ITER_DEFAULT	10
#define LIM_AGENT_ITER_MAX	200
#define LIM_AGENT_MAX_TOKENS	1000000		/* model max_tokens */

/* --- HTTP (tools/) --- */
#define LIM_HTTP_BODY_MAX	(8u << 20)	/* response body cap */
#define LIM_HTTP_REQ_BODY_MAX	(1u << 20)
#define LIM_HTTP_CONNECT_MS	5000
#define LIM_HTTP_TOTAL_MS	30000
#define LIM_HTTP_RETRIES	3
#define LIM_HTTP_RETRY_AFTER_MAX_MS	30000
#define LIM_HTTP_PAGES_MAX	10
#define LIM_HTTP_REDIRECTS_MAX	3
#define LIM_HTTP_HEADERS_MAX	100		/* response header lines kept */
#define LIM_HTTP_HEADER_LINE_MAX	8192	/* longer response header lines are dropped */
#define LIM_HTTP_POOL		8		/* idle easy handles a client keeps */
#define LIM_URL_MAX		8192u

/* --- egress broker (supervisor/worker.c) --- */
#define LIM_EGRESS_PENDING	64		/* connections corrald is making, all workers */
#define LIM_EGRESS_PER_WORKER	8		/* ... for one worker */
#define LIM_EGRESS_MARGIN_MS	500		/* answer this long before the worker stops waiting */
#define LIM_EGRESS_LOOKUPS	8		/* name lookups running at once (a thread each),
						 * those a timed-out request left behind included */
#define LIM_EGRESS_LOOKUP_STACK	(512u << 10)	/* stack of a lookup thread (NSS, resolver) */

/* --- exec (tools/exec) --- */
#define LIM_EXEC_OUT_MAX	(8u << 20)
#define LIM_EXEC_TIMEOUT_MS	60000
#define LIM_EXEC_ARGS_MAX	64		/* argv elements a family passes to one run */
#define LIM_EXEC_ERR_MAX	(256u << 10)	/* stderr kept from one run */
#define LIM_EXEC_PROXY_CONNS	16		/* live connections through one exec thread's proxy */
#define LIM_EXEC_PROXY_HEAD	8192u		/* request head a client sends the proxy */
#define LIM_KUBECONFIG_MAX	(256u << 10)	/* kubeconfig text handed in the call context */
#define LIM_FLUX_WAIT_MAX_S	600		/* reconcile/resume wait for Ready */
#define LIM_FLUX_LOG_LINES_MAX	5000		/* get_logs entries returned */
#define LIM_FLUX_ITEMS_MAX	2000		/* objects shaped from one list */

/* --- model gateway (tools/model*) --- */
#define LIM_MODEL_MESSAGES_MAX	512u		/* messages in one chat request */
#define LIM_MODEL_TOOLS_MAX	128u		/* tool definitions in one chat request */
#define LIM_MODEL_CALLS_MAX	32u		/* tool calls in one model turn */
#define LIM_MODEL_TEXT_MAX	(64u << 10)	/* assistant text kept from one turn */
#define LIM_MODEL_ID_MAX	128u		/* a tool call id */
#define LIM_MODEL_SCRIPT_MAX	(192u << 10)	/* script provider: the YAML text (rides in ctx) */
#define LIM_MODEL_SCRIPT_TURNS	256u		/* turns in one script */
#define LIM_MODEL_MAX_TOKENS_DEFAULT 4096	/* Anthropic requires max_tokens */
#define LIM_MODEL_RETRIES	3		/* retries after 408/429/5xx/529 or a lost connection */
#define LIM_MODEL_BACKOFF_MS	500		/* first backoff; doubles per retry */
#define LIM_MODEL_RETRY_WAIT_MAX_MS 30000	/* a longer server-announced wait: give up */
#define LIM_MODEL_CHAT_MS	120000		/* model.chat deadline */
#define LIM_RELPLAN_COMMITS	1000		/* github_actions.release_plan: commits read */
#define LIM_RELPLAN_CHANGELOG	(120u << 10)	/* ...its changelog (a release body takes 125,000) */

/* --- agent runtime (agents/agentrt, agents/memory) --- */
#define LIM_AGENT_RUN_MS	300000		/* whole run, unless the agent JSON says */
#define LIM_AGENT_CALL_GRACE_MS	5000		/* past a call's deadline before giving up on it */
#define LIM_AGENT_PENDING_MS	60000		/* wait for an approval before reporting */
#define LIM_AGENT_PENDING_POLL_MS 1000		/* ask again this often while pending */
#define LIM_AGENT_TOOL_RESULT_MAX (32u << 10)	/* one tool result as the model sees it */
#define LIM_AGENT_QUEUED_RUNS	16		/* RUNs waiting while one runs */
#define LIM_AGENT_MEMORY_TURNS	20		/* previous exchanges loaded into a run */
#define LIM_AGENT_MEMORY_ROWS	1000		/* exchanges kept per agent */
#define LIM_AGENT_MEMORY_TEXT_MAX (16u << 10)	/* input or answer kept per exchange */

/* --- supervision (supervisor/) --- */
#define LIM_CALL_DEADLINE_MS	60000		/* default per-call deadline */
#define LIM_HELLO_MS		5000		/* spawn -> hello -> verified */
#define LIM_DRAIN_MS		5000		/* SIGTERM drain */
#define LIM_RESTART_MIN_MS	1000		/* >= 1 s between restarts */
#define LIM_RESTART_MAX_MS	30000
#define LIM_DEATHS_MAX		5		/* deaths in the window -> failed */
#define LIM_DEATH_WINDOW_MS	60000
#define LIM_INFLIGHT_MAX	1024		/* calls in flight per worker */
#define LIM_WORKERS_MAX		4096
#define LIM_CTL_CLIENTS_MAX	256		/* control clients at once (admins not counted) */
#define LIM_CTL_CLIENTS_UID	16		/* ... of one non-admin uid */
#define LIM_CTL_OUTQ		(LIM_MSG_MAX + (1u << 20))	/* answers queued for a control
						 * client that does not read: then it is dropped */
#define LIM_SPAWN_INFLIGHT	8		/* workers in `starting` at once (at most 2 per CPU); the
						 * rest wait `queued`, their hello deadline not running */
#define LIM_PEER_MSGS_TURN	4		/* messages read from one worker/agent per loop turn */
#define LIM_RATE_HOLD_MS	1000		/* an agent refused for its rate is not read for this
						 * long at most (until the rate has room again) */

/* --- worker rlimits (defaults; tenants may set lower) --- */
#define LIM_RL_NOFILE		256
#define LIM_RL_NPROC		512		/* per uid: threads count; nng+curl workers use ~16 each */
#define LIM_RL_FSIZE		(64u << 20)
#define LIM_RL_AS		(1ull << 32)	/* 4 GiB address space (nng/curl threads reserve stacks) */
#define LIM_RL_AS_EXEC		(16ull << 30)	/* Go binaries reserve large arenas */

/* The high fd numbers our exec paths use: above LIM_RL_NOFILE so that a confined program can
 * never dup2() anything onto them (see docs/SANDBOX.md, "the sanctioned exec"). */
#define FD_EXEC_SLOT		1000
#define FD_EXEC_SLOTS		4		/* slots FD_EXEC_SLOT .. +3 (corral-jail --exec-slot) */

/* --- confinement (workers/sandbox, supervisor/jail) --- */
#define LIM_JAIL_TMP_SIZE	(64u << 20)	/* the jail's /tmp tmpfs */
#define LIM_JAIL_ROOT_SIZE	(1u << 20)	/* the jail's root tmpfs (mount points, /etc files) */
#define LIM_JAIL_BINDS_MAX	16		/* --bind-ro/--bind-rw per jail */
#define LIM_JAIL_KEEP_FDS_MAX	16		/* --keep-fd per jail (mapped to 3, 4, ...) */
#define LIM_JAIL_ENV_MAX	64		/* --env entries */
#define LIM_JAIL_ARGS_MAX	256		/* argv entries of the jailed program */

#define LIM_TENANT_UIDS		65536u		/* uids: FIRST-LAST, one per worker */

/* --- corral-privd (supervisor/privd*): what the monitor lets corrald ask for --- */
#define LIM_PATH_MAX		4096		/* a path in a privd request */
#define LIM_PRIVD_MSG		(32u << 10)	/* one request datagram */
#define LIM_PRIVD_ARGS_MAX	160		/* corral-jail argv entries in a SPAWN */
#define LIM_PRIVD_JAILS		4096		/* jails alive per corrald connection */
#define LIM_PRIVD_TEXT		1024		/* a refusal's reason, a forwarded kmsg record */
#define LIM_PRIVD_OUTQ		(2 * LIM_PRIVD_JAILS + 64)	/* datagrams waiting for corrald */
#define LIM_PRIVD_RL_AS_MAX	(64ull << 30)
#define LIM_PRIVD_RL_NOFILE_MAX	65536ull
#define LIM_PRIVD_RL_NPROC_MAX	65536ull
#define LIM_PRIVD_RL_FSIZE_MAX	(1ull << 40)

/* --- audit (supervisor/audit) --- */
#define LIM_AUDIT_RECORD_MAX	(64u << 10)
#define LIM_AUDIT_BATCH		1024		/* BATCH: records per group commit at most... */
#define LIM_AUDIT_BATCH_MS	5		/* ...and the longest a record waits for it */
#define LIM_AUDIT_ROTATE_BYTES	(64ull << 20)	/* default rotation size of the live file */
#define LIM_AUDIT_CKPT_RECORDS	1000u		/* default: a checkpoint every N records... */
#define LIM_AUDIT_CKPT_MS	60000		/* ...and at least this often while records arrive */
#define LIM_AUDIT_CKPT_MIN_MS	1000		/* ...but not more often than this */
#define LIM_AUDIT_QUERY_FILES	4096u		/* files one verify/query/tail run reads */

/* --- credentials and approvals (supervisor/cred, supervisor/approval) --- */
#define LIM_CRED_MAX		(64u << 10)	/* one credential value */
#define LIM_CRED_MIN		4u		/* shorter values are refused: redaction would over-match */
#define LIM_CREDS_MAX		1024u		/* credentials in one store */
#define LIM_APPROVALS_MAX	4096u		/* approvals held (pending and finished until gc) */
#define LIM_APPROVERS_MAX	64u		/* approver patterns of one approval */
#define LIM_APPROVAL_VOTES_MAX	64u
#define LIM_APPROVAL_REASON_MAX	512u
#define LIM_APPROVAL_FILE_MAX	(2u << 20)	/* one approval file (args, at most LIM_ARGS_MAX, ride escaped) */

/* --- canary judge (tools/canary) --- */
#define LIM_CANARY_INPUT_MAX	(32u << 20)	/* JSON input of `corralctl canary judge` */
#define LIM_CANARY_OUTPUT_MAX	(4u << 20)	/* JSON result */
#define LIM_CANARY_METRICS_MAX	256u
#define LIM_CANARY_GROUPS_MAX	64u		/* distinct groups (weights and metrics' groups) */
#define LIM_CANARY_SAMPLES_MAX	100000u		/* one series; keeps every rank and tie sum exact in binary64 */
#define LIM_CANARY_OP_METRICS_MAX 32u		/* metrics of one prometheus.canary_analyze (2 queries each) */
#define LIM_CANARY_QUERY_MAX	(16u << 10)	/* one baseline/canary PromQL text */
#define LIM_CANARY_CHART_POINTS	20000u		/* samples returned with include_series, all metrics */
#define LIM_EVIDENCE_MAX	4096u		/* canary verdicts corrald keeps as policy evidence */
#define LIM_EVIDENCE_SCAN_BYTES	(1ull << 30)	/* audit log read at start to find evidence, newest first */

/* --- MCP (tools/mcp, supervisor/mcp, agents/mcpbridge) --- */
#define LIM_MCP_LINE_MAX	(LIM_ARGS_MAX + (64u << 10))	/* one JSON-RPC message from a client */
#define LIM_MCP_RUNS_QUEUED	16		/* bridge: RUNs waiting for the program to ask */
#define LIM_MCP_RUN_WAIT_MS	600000		/* bridge: longest corral__next_run wait */
#define LIM_MCP_CALL_WAIT_MS	900000		/* bridge: longest wait for corrald's answer */
#define LIM_AGENT_FLUSH_MS	2000		/* an exiting agent waits for corral.flush */

/* --- audit report (supervisor/auditreport) --- */
#define LIM_REPORT_RECORDS	200000u		/* records one report reads */
#define LIM_REPORT_CALLS	20000u		/* calls drawn and listed (the newest) */
#define LIM_REPORT_ROWS		256u		/* principals (timeline rows) */

/* --- operations: readiness, metrics, forwarded logs (supervisor/notify, metrics, ops) --- */
#define LIM_NOTIFY_MSG_MAX	4096u		/* one sd_notify datagram */
#define LIM_NOTIFY_STATUS_MAX	256u		/* its STATUS= text */
#define LIM_METRICS_SERIES_MAX	8192u		/* series in corrald's registry */
#define LIM_METRICS_LABEL_MAX	128u		/* one label value */
#define LIM_METRICS_TEXT_MAX	(4u << 20)	/* the rendered exposition text */
#define LIM_METRICS_INTERVAL_MS	15000		/* default textfile interval... */
#define LIM_METRICS_INTERVAL_MIN_MS 1000	/* ...and the shortest allowed */
#define LIM_WORKER_LOG_LINES	50		/* forwarded lines per worker per window... */
#define LIM_WORKER_LOG_WINDOW_MS 1000		/* ...the rest are counted and dropped */

#endif
