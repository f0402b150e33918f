/** Demo HTTPS servers whose private-key steps are offloaded to Keyhold. */
package dev.keyhold.demo;
