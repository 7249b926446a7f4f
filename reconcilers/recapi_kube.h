/* recapi_kube.h - a rec_api backed by the REST client of operator/kube (rest.h).
 *
 * Every call is one kube_request on the path given (so pods/proxy, subresources and
 * metrics.k8s.io go through the same client: TLS, bearer token, rate limit, retries).
 * Owns: nothing; the kube_client is borrowed and must outlive the rec_api.
 * Thread safety: as kube_client (any thread). */
#ifndef MBCAS_REC_RECAPI_KUBE_H
#define MBCAS_REC_RECAPI_KUBE_H

#include "recapi.h"
#include "rest.h"

/* Fill api so that its calls go to client. */
void rec_api_kube(rec_api *api, kube_client *client);

#endif
