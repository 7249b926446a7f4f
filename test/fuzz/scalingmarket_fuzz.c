/* scalingmarket_fuzz.c - ScalingMarket objects: sm_parse_str and the status
 * round trip (api/v1alpha1/scalingmarket.h). See crd_fuzz.inc. */
#include "scalingmarket.h"

#define CRD_T scalingmarket
#define CRD_STATUS_T sm_status
#define CRD_PARSE_STR sm_parse_str
#define CRD_FREE sm_free
#define CRD_STATUS_FROM sm_status_from_json
#define CRD_STATUS_TO sm_status_to_json
#define CRD_STATUS_CLEAR sm_status_clear
#include "crd_fuzz.inc"
