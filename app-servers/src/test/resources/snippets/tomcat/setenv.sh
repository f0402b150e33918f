# $CATALINA_BASE/bin/setenv.sh: the one client jar on the JVM's class path (not in lib/),
# and the provider registered through the JDK's security properties.
CLASSPATH="$CATALINA_BASE/keyhold/keyhold-client-all.jar"
CATALINA_OPTS="$CATALINA_OPTS -Djava.security.properties=$CATALINA_BASE/conf/keyhold.security"
