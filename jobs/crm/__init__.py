"""CRM sync (`crm-sync`, `partnerbot sync crm`): the HTTP retry/throttle (http), the
connectors (hubspot, json_source), matching deals to partners (matching) and the
orchestration (sync)."""
