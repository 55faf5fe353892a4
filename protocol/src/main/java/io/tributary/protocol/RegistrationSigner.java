package io.tributary.protocol;

/**
 * Signs what a node says about itself to the coordinator ({@code RegisterTrainer.signedFields}) with
 * the node's TLS key; the node's module implements it, so that the trainer needs no TLS code.
 */
@FunctionalInterface
public interface RegistrationSigner {

    /** Signs nothing (TLS off): the signature is empty and the coordinator takes the node at its word. */
    RegistrationSigner NONE = fields -> "";

    /** The signature over {@code fields}, as text that travels in a message. */
    String sign(String... fields);
}
