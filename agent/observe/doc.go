// Package observe is how an operator sees a long-running agent: Prometheus
// metrics and the HTTP endpoints of `agent watch --listen ADDR`.
//
// # Endpoints
//
//	GET /healthz   200 "ok" while the process serves
//	GET /readyz    200 "ready", or 503 with the reason (first render not
//	               done, last check failed, no successful check for two
//	               intervals)
//	GET /metrics   Prometheus text format
//
// # Metrics
//
//	agent_checks_total                          checks for new versions
//	agent_check_errors_total                    checks that failed
//	agent_keyvault_requests_total{operation,code}  HTTP attempts to Key Vault (retries included;
//	                                            code "0" when no response came back)
//	agent_last_success_timestamp_seconds        end of the last successful check (or render)
//	agent_ready                                 1 when /readyz answers 200
//	agent_files_written_total                   files rewritten because their bytes changed
//	agent_file_restores_total                   rendered files put back after someone deleted or altered them
//	agent_onchange_commands_total{result}       onChange commands run ("ok", "failed")
//	agent_reloads_total{result}                 manifest reloads ("ok", "invalid")
//	agent_secret_version_age_seconds{secret,vault}      age of the version in use (since it was created)
//	agent_secret_expiry_timestamp_seconds{secret,vault} its expiry, for versions that have one
//
// plus the standard go_* and process_* metrics. The secret label is the
// manifest's name for the reference; no metric carries a value.
//
// Metrics are registered in the Metrics' own registry, never the global one.
package observe
