# In $JETTY_BASE, once: enable HTTPS with Keyhold keys. Then start Jetty as usual.
java -jar "$JETTY_HOME/start.jar" --add-modules=https,keyhold
java -jar "$JETTY_HOME/start.jar"
