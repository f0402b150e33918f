# $JETTY_BASE/modules/keyhold.mod: TLS keys held by a Keyhold service.
[description]
Serves TLS with private keys held by a Keyhold service: the one client jar, its provider,
and the ssl-context key store set to the Keyhold type (etc/keyhold.properties).

[tags]
ssl

[depend]
ssl

[lib]
lib/keyhold/*.jar

[xml]
etc/keyhold.xml

[exec]
-Djava.security.properties=${jetty.base}/etc/keyhold.security

[ini]
jetty.sslContext.keyStorePath=etc/keyhold.properties
jetty.sslContext.keyStoreType=Keyhold
jetty.sslContext.keyStoreProvider=Keyhold
