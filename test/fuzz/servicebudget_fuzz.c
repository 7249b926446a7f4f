/* servicebudget_fuzz.c - ServiceBudget objects: sb_parse_str and the status
 * round trip (api/v1alpha1/servicebudget.h). See crd_fuzz.inc. */
#include "servicebudget.h"

#define CRD_T servicebudget
#define CRD_STATUS_T sb_status
#define CRD_PARSE_STR sb_parse_str
#define CRD_FREE sb_free
#define CRD_STATUS_FROM sb_status_from_json
#define CRD_STATUS_TO sb_status_to_json
#define CRD_STATUS_CLEAR sb_status_clear
#include "crd_fuzz.inc"
