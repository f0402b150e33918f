/**
 * JCA integration: {@link dev.keyhold.client.jca.KeyholdProvider} (install once with {@code
 * KeyholdProvider.install()}) and the remote key handles {@link
 * dev.keyhold.client.jca.KeyholdPrivateKey}. Signature and Cipher services accept only these
 * handles, hash locally and send the service a digest or a ciphertext.
 */
package dev.keyhold.client.jca;
