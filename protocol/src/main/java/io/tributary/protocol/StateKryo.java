package io.tributary.protocol;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.ImmutableCollectionsSerializers;
import com.esotericsoftware.kryo.serializers.RecordSerializer;
import com.esotericsoftware.kryo.util.DefaultInstantiatorStrategy;
import java.io.ByteArrayOutputStream;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.objenesis.strategy.StdInstantiatorStrategy;

/**
 * Turns a process's own state (plain objects of this code base: the coordinator's roster, plans and
 * audits) into compressed bytes and back, field by field. Unlike the wire's {@link KryoSerializer} it
 * takes any class and keeps shared references; it is for state a node stores for its successor
 * (that successor runs the same build: the bytes name classes and fields), not for messages. Fields
 * marked {@code transient} are left out (the owner wires them again). Not thread-safe: one per owner.
 */
public final class StateKryo {

    private final Kryo kryo = new Kryo();
    private final Output output = new Output(64 * 1024, -1);
    private final Deflater deflater = new Deflater(Deflater.BEST_SPEED);
    private final Inflater inflater = new Inflater();
    private final byte[] scratch = new byte[64 * 1024];

    public StateKryo(ActorRefResolver resolver) {
        kryo.setRegistrationRequired(false);
        kryo.setReferences(true);
        kryo.setInstantiatorStrategy(new DefaultInstantiatorStrategy(new StdInstantiatorStrategy()));
        ImmutableCollectionsSerializers.addDefaultSerializers(kryo);
        kryo.addDefaultSerializer(ActorRef.class, new ActorRefSerializer(() -> resolver));
        kryo.addDefaultSerializer(Record.class, new com.esotericsoftware.kryo.SerializerFactory<Serializer<?>>() {
            @Override
            @SuppressWarnings({"unchecked", "rawtypes"})
            public Serializer<?> newSerializer(Kryo k, Class type) {
                return new RecordSerializer<>(type);
            }

            @Override
            public boolean isSupported(Class type) {
                return type.isRecord();
            }
        });
    }

    /** {@code state} as compressed bytes. */
    public byte[] write(Object state) {
        output.reset();
        kryo.writeClassAndObject(output, state);
        deflater.reset();
        deflater.setInput(output.getBuffer(), 0, output.position());
        deflater.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream(output.position() / 4 + 64);
        while (!deflater.finished()) {
            int n = deflater.deflate(scratch);
            out.write(scratch, 0, n);
        }
        return out.toByteArray();
    }

    /** What {@link #write} wrote; throws {@link IllegalArgumentException} for bytes it did not write. */
    public Object read(byte[] bytes) {
        inflater.reset();
        inflater.setInput(bytes);
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length * 4 + 64);
        try {
            while (!inflater.finished()) {
                int n = inflater.inflate(scratch);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    throw new IllegalArgumentException("stored state of " + bytes.length + " bytes is truncated");
                }
                out.write(scratch, 0, n);
            }
        } catch (DataFormatException e) {
            throw new IllegalArgumentException("stored state of " + bytes.length + " bytes is not compressed state: "
                    + e.getMessage(), e);
        }
        try (Input in = new Input(out.toByteArray())) {
            return kryo.readClassAndObject(in);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("stored state of " + bytes.length + " bytes cannot be read (written by"
                    + " another build of Tributary?): " + e.getMessage(), e);
        }
    }
}
