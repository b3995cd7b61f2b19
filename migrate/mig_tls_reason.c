/* Error text for mig_tls_error(): the cases an operator meets (key mismatch, tampering,
 * the peer hanging up) in their own words, anything else as mbedTLS's text with its code. */
#include <stdbool.h>

#include "hv/lib/format.h"
#include "mbedtls/error.h"
#include "mbedtls/ssl.h"
#include "migrate/mig_tls_internal.h"

static const char *alert_name(int alert)
{
	switch (alert) {
	case MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE: return "unexpected_message";
	case MBEDTLS_SSL_ALERT_MSG_BAD_RECORD_MAC: return "bad_record_mac";
	case MBEDTLS_SSL_ALERT_MSG_RECORD_OVERFLOW: return "record_overflow";
	case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE: return "handshake_failure";
	case MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER: return "illegal_parameter";
	case MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR: return "decode_error";
	case MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR: return "decrypt_error";
	case MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION: return "protocol_version";
	case MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY: return "insufficient_security";
	case MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR: return "internal_error";
	case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_PSK_IDENTITY: return "unknown_psk_identity";
	default: return "unlisted";
	}
}

/* A record that fails authentication during the handshake can only be the Finished
 * message, keyed from the PSK and both ends' fresh randoms: the two ends hold
 * different keys, or the peer replays a handshake recorded earlier (a relay's
 * replay, tests/integration/test_relay.py). */
static bool key_mismatch(int ret, bool in_handshake, int alert)
{
	if (!in_handshake)
		return false;
	if (ret == MBEDTLS_ERR_SSL_INVALID_MAC || ret == MBEDTLS_ERR_SSL_BAD_HS_FINISHED)
		return true;
	return ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE &&
	       (alert == MBEDTLS_SSL_ALERT_MSG_BAD_RECORD_MAC ||
		alert == MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR);
}

void mig_tls_describe(int ret, bool in_handshake, int alert, char *buf, size_t size)
{
	const char *hint = key_mismatch(ret, in_handshake, alert) ?
				   ": a different key or a replay" : "";

	switch (ret) {
	case MBEDTLS_ERR_SSL_INVALID_MAC:
		fmt_snprintf(buf, size, "bad record MAC%s", in_handshake ? hint :
			     " (record altered, replayed or from another session)");
		return;
	case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
		fmt_snprintf(buf, size, "peer sent fatal alert %s (%d)%s", alert_name(alert), alert,
			     hint);
		return;
	case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
		fmt_snprintf(buf, size, "peer closed the channel");
		return;
	case MBEDTLS_ERR_SSL_UNKNOWN_IDENTITY:
		fmt_snprintf(buf, size, "peer's key identity is not ours");
		return;
	case MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE:
	case MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN:
		fmt_snprintf(buf, size, "no cipher suite in common");
		return;
	}
	char text[80];
	mbedtls_strerror(ret, text, sizeof(text));
	fmt_snprintf(buf, size, "%s (-0x%04x)%s", text, (unsigned)-ret, hint);
}
