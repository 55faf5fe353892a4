package io.tributary.protocol;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.ImmutableCollectionsSerializers;
import com.esotericsoftware.kryo.serializers.RecordSerializer;
import com.esotericsoftware.kryo.util.DefaultClassResolver;
import com.esotericsoftware.kryo.util.Pool;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.JSerializer;

/**
 * Pekko serializer for every {@link WireMessage}: Kryo 5 with registration required, the fixed ids
 * of {@link ProtocolRegistry}, records written component by component, typed {@link ActorRef}s
 * written as their serialization-format string. Thread-safe: Kryo instances come from a pool.
 */
public final class KryoSerializer extends JSerializer {

    /** The config key that holds this serializer's fixed identifier. */
    public static final String IDENTIFIER_KEY =
            "pekko.actor.serialization-identifiers.\"" + KryoSerializer.class.getName() + "\"";

    private static final int POOL_SIZE = 16;
    private static final int OUTPUT_BUFFER = 4096;
    // A pooled output that grew past this for one large message is replaced rather than kept.
    private static final int OUTPUT_KEEP_LIMIT = 1 << 20;

    private final int identifier;
    private final ExtendedActorSystem system;
    // Resolved on first use: the resolver is an extension of the very system that is creating us.
    private volatile ActorRefResolver resolver;
    private volatile ControlSignatures signatures;

    private final Pool<Kryo> kryos = new Pool<>(true, false, POOL_SIZE) {
        @Override
        protected Kryo create() {
            return newKryo();
        }
    };

    private final Pool<Output> outputs = new Pool<>(true, false, POOL_SIZE) {
        @Override
        protected Output create() {
            return new Output(OUTPUT_BUFFER, -1);
        }
    };

    public KryoSerializer(ExtendedActorSystem system) {
        this.system = system;
        if (!system.settings().config().hasPath(IDENTIFIER_KEY)) {
            throw new IllegalStateException("config key " + IDENTIFIER_KEY
                    + " is missing: the parameter-server reference.conf must be on the classpath");
        }
        this.identifier = system.settings().config().getInt(IDENTIFIER_KEY);
    }

    @Override
    public int identifier() {
        return identifier;
    }

    @Override
    public boolean includeManifest() {
        // The registration id written by Kryo names the class.
        return false;
    }

    @Override
    public byte[] toBinary(Object message) {
        ControlSignatures signatures = signatures();
        byte[] header = signatures.header();
        Kryo kryo = kryos.obtain();
        Output output = outputs.obtain();
        try {
            if (header == null) {
                kryo.writeClassAndObject(output, message);
                return output.toBytes();
            }
            output.writeBytes(header);
            kryo.writeClassAndObject(output, message);
            int signed = output.position();
            byte[] bytes = new byte[signed + ControlSignatures.SIGNATURE_BYTES];
            System.arraycopy(output.getBuffer(), 0, bytes, 0, signed);
            signatures.sign(bytes, signed);
            return bytes;
        } catch (KryoException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot serialize " + message.getClass().getName() + ": "
                    + firstLine(e.getMessage()), e);
        } finally {
            output.reset();
            if (output.getBuffer().length > OUTPUT_KEEP_LIMIT) {
                output.setBuffer(new byte[OUTPUT_BUFFER], -1);
            }
            outputs.free(output);
            kryos.free(kryo);
        }
    }

    @Override
    public Object fromBinaryJava(byte[] bytes, Class<?> manifest) {
        ControlSignatures signatures = signatures();
        if (!signatures.enabled()) {
            return read(bytes, 0, bytes.length);
        }
        ControlSignatures.Opened opened = signatures.open(bytes);
        Object message = read(bytes, opened.bodyOffset(), opened.bodyLength());
        signatures.authorize(message, opened.signer());
        if (message instanceof SignerAttributed a) {
            // a ps or coordinator node speaks for itself or relays: only a trainer's word is checked against its id
            boolean operator = opened.signer().roles().contains("ps") || opened.signer().roles().contains("coordinator");
            return a.withSigner(operator ? "" : opened.signer().endpoint());
        }
        return message;
    }

    private ControlSignatures signatures() {
        ControlSignatures s = signatures;
        if (s == null) {
            s = ControlSignatures.get(system);
            signatures = s;
        }
        return s;
    }

    private Object read(byte[] bytes, int offset, int length) {
        Kryo kryo = kryos.obtain();
        try {
            return kryo.readClassAndObject(new Input(bytes, offset, length));
        } catch (KryoException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot deserialize a " + bytes.length + "-byte message ("
                    + firstLine(e.getMessage()) + "); is the sender of Tributary protocol version "
                    + ProtocolRegistry.PROTOCOL_VERSION + "?", e);
        } finally {
            kryos.free(kryo);
        }
    }

    private Kryo newKryo() {
        Kryo kryo = new WireKryo();
        kryo.setRegistrationRequired(true);
        kryo.setReferences(false);
        ImmutableCollectionsSerializers.addDefaultSerializers(kryo);
        kryo.addDefaultSerializer(ActorRef.class, new ActorRefSerializer(this::resolver));
        for (ProtocolRegistry.Entry e : ProtocolRegistry.all()) {
            if (e.type().isRecord()) {
                kryo.register(e.type(), new RecordSerializer<>(e.type()), e.id());
            } else {
                kryo.register(e.type(), e.id());
            }
        }
        return kryo;
    }

    private ActorRefResolver resolver() {
        ActorRefResolver r = resolver;
        if (r == null) {
            r = ActorRefResolver.get(Adapter.toTyped(system));
            resolver = r;
        }
        return r;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "no detail";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Kryo whose refusal of an unregistered class says where to register it. */
    private static final class WireKryo extends Kryo {
        WireKryo() {
            super(new ActorRefAwareClassResolver(), null);
        }

        @Override
        @SuppressWarnings("rawtypes")
        protected String unregisteredClassMessage(Class type) {
            return "class " + type.getName() + " is not registered for the wire: add it to "
                    + ProtocolRegistry.class.getName() + " with a new fixed id (and make it a record)";
        }
    }

    /**
     * Maps every implementation of the typed {@link ActorRef} interface (adapters, local and remote
     * refs) to the one registration of the interface, so the concrete class never reaches the wire.
     */
    private static final class ActorRefAwareClassResolver extends DefaultClassResolver {
        @Override
        @SuppressWarnings("rawtypes")
        public Registration getRegistration(Class type) {
            Registration registration = super.getRegistration(type);
            if (registration == null && type != null && ActorRef.class.isAssignableFrom(type)) {
                return super.getRegistration(ActorRef.class);
            }
            return registration;
        }
    }
}
