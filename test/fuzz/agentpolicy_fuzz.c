/* agentpolicy_fuzz.c - AgentPolicy objects: ap_parse_str and the status
 * round trip (api/v1alpha1/agentpolicy.h). See crd_fuzz.inc. */
#include "agentpolicy.h"

#define CRD_T agentpolicy
#define CRD_STATUS_T ap_status
#define CRD_PARSE_STR ap_parse_str
#define CRD_FREE ap_free
#define CRD_STATUS_FROM ap_status_from_json
#define CRD_STATUS_TO ap_status_to_json
#define CRD_STATUS_CLEAR ap_status_clear
#include "crd_fuzz.inc"
