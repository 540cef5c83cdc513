# Section-3 manual pages, one file per function that
# include/anydtls/anydtls.h declares: a page of its own, or a one-line
# `.so man3/PAGE.3` link to the page that documents it with related
# functions.  Included from Makefile.am (anywhere after `TESTS =`);
# automake needs the explicit list, and installs each file to $(man3dir).
# tests/manpages.sh checks that the pages cover the header, format without
# groff warnings, and that this list names every file in doc/man3.
#
# No variable here is assigned with `=` elsewhere, so the fragment does not
# depend on where Makefile.am defines EXTRA_DIST: the test script is
# distributed as a dist_check_SCRIPTS entry, and automake distributes this
# fragment itself, as it does every file that Makefile.am includes.
dist_man3_MANS = \
	doc/man3/anydtls_addr_format.3 \
	doc/man3/anydtls_addr_from_sockaddr.3 \
	doc/man3/anydtls_addr_from_string.3 \
	doc/man3/anydtls_addr_to_sockaddr.3 \
	doc/man3/anydtls_alert.3 \
	doc/man3/anydtls_backend_caps.3 \
	doc/man3/anydtls_backend_name.3 \
	doc/man3/anydtls_backend_version.3 \
	doc/man3/anydtls_cipher.3 \
	doc/man3/anydtls_config_build.3 \
	doc/man3/anydtls_config_error.3 \
	doc/man3/anydtls_config_free.3 \
	doc/man3/anydtls_config_new.3 \
	doc/man3/anydtls_config_set_ca_file.3 \
	doc/man3/anydtls_config_set_ca_mem.3 \
	doc/man3/anydtls_config_set_cert_file.3 \
	doc/man3/anydtls_config_set_cert_mem.3 \
	doc/man3/anydtls_config_set_cookie_key_length.3 \
	doc/man3/anydtls_config_set_cookie_lifetime.3 \
	doc/man3/anydtls_config_set_mtu.3 \
	doc/man3/anydtls_config_set_peer_name.3 \
	doc/man3/anydtls_config_set_psk.3 \
	doc/man3/anydtls_config_set_psk_server.3 \
	doc/man3/anydtls_config_set_resumption.3 \
	doc/man3/anydtls_config_set_timeouts.3 \
	doc/man3/anydtls_config_set_verify.3 \
	doc/man3/anydtls_cookie_check.3 \
	doc/man3/anydtls_cookie_rotate.3 \
	doc/man3/anydtls_error_detail.3 \
	doc/man3/anydtls_error_native.3 \
	doc/man3/anydtls_export_keying_material.3 \
	doc/man3/anydtls_get_timeout.3 \
	doc/man3/anydtls_handle_timeout.3 \
	doc/man3/anydtls_handshake.3 \
	doc/man3/anydtls_max_payload.3 \
	doc/man3/anydtls_memory_pop.3 \
	doc/man3/anydtls_memory_push.3 \
	doc/man3/anydtls_peer_cert_der.3 \
	doc/man3/anydtls_protocol.3 \
	doc/man3/anydtls_psk_identity.3 \
	doc/man3/anydtls_read.3 \
	doc/man3/anydtls_session_accept.3 \
	doc/man3/anydtls_session_free.3 \
	doc/man3/anydtls_session_new.3 \
	doc/man3/anydtls_session_resume.3 \
	doc/man3/anydtls_session_resumed.3 \
	doc/man3/anydtls_session_save.3 \
	doc/man3/anydtls_set_mtu.3 \
	doc/man3/anydtls_shutdown.3 \
	doc/man3/anydtls_strerror.3 \
	doc/man3/anydtls_transport_errno.3 \
	doc/man3/anydtls_transport_free.3 \
	doc/man3/anydtls_transport_new_callbacks.3 \
	doc/man3/anydtls_transport_new_memory.3 \
	doc/man3/anydtls_transport_new_memory_pair.3 \
	doc/man3/anydtls_transport_new_udp.3 \
	doc/man3/anydtls_version.3 \
	doc/man3/anydtls_write.3

TESTS += tests/manpages.sh
dist_check_SCRIPTS = tests/manpages.sh
