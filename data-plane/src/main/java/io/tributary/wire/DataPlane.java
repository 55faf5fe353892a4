package io.tributary.wire;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.agrona.CloseHelper;
import org.agrona.IoUtil;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One JVM's data plane: an embedded Aeron media driver in a directory of its own plus the Aeron
 * client connected to it, and a factory for the publications and subscriptions that carry frames.
 *
 * <p>Sized for a 2-core machine (see {@link Settings#defaults()}): the driver runs in
 * {@link ThreadingMode#SHARED} mode, one thread for conductor, sender and receiver, because on two
 * cores the dedicated mode's three spinning threads starve the application and measured at less
 * than half the shared mode's throughput; that thread backs off when idle. The directory is unique
 * per process and instance, wiped on start and deleted on {@link #close()}.
 */
public final class DataPlane implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DataPlane.class);
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    /** Channel for a co-located peer (shared memory). */
    public static final String IPC_CHANNEL = "aeron:ipc";

    /**
     * Driver sizing.
     *
     * @param baseDirectory where the driver directory is created; {@code /dev/shm} keeps the log buffers in
     *     memory rather than on a disk-backed file system
     * @param termLength term buffer length of UDP and IPC publications, a power of two in [64 KiB, 1 GiB]; a
     *     publication maps three terms, and its largest message is an eighth of a term
     * @param socketBufferLength SO_SNDBUF and SO_RCVBUF of UDP sockets, and the receiver's flow-control window
     *     (capped at half a term): the window bounds the bytes in flight per stream
     * @param mtuLength largest UDP datagram the driver sends, a multiple of 32 in [1 KiB, 65504]; frames larger
     *     than it are fragmented and reassembled
     */
    public record Settings(Path baseDirectory, int termLength, int socketBufferLength, int mtuLength) {

        /** Default term buffer length: 4 MiB. */
        public static final int DEFAULT_TERM_LENGTH = 4 * 1024 * 1024;
        /** Default socket buffers and window: 2 MiB. */
        public static final int DEFAULT_SOCKET_BUFFER_LENGTH = 2 * 1024 * 1024;
        /** Aeron's default MTU, safe on any Ethernet path. */
        public static final int DEFAULT_MTU_LENGTH = 1408;

        public Settings {
            if (baseDirectory == null) {
                throw new IllegalArgumentException("baseDirectory is null: pass a writable directory, e.g. java.io.tmpdir");
            }
            if (termLength < 64 * 1024 || termLength > 1 << 30 || Integer.bitCount(termLength) != 1) {
                throw new IllegalArgumentException("termLength " + termLength
                        + " must be a power of two between 64 KiB and 1 GiB");
            }
            if (socketBufferLength < 64 * 1024) {
                throw new IllegalArgumentException("socketBufferLength " + socketBufferLength + " must be at least 64 KiB");
            }
            if (mtuLength < 1024 || mtuLength > 65504 || mtuLength % 32 != 0) {
                throw new IllegalArgumentException("mtuLength " + mtuLength
                        + " must be a multiple of 32 between 1024 and 65504");
            }
        }

        /**
         * Defaults for a small machine: 4 MiB terms (12 MiB mapped per publication, largest message 512 KiB,
         * which leaves room for the 64 KiB frames {@link FramePublisher} sends by default), 2 MiB socket
         * buffers and window (under this host's 4 MiB {@code net.core.rmem_max}; the kernel silently clamps
         * larger requests, and loopback needs a window of several frames to keep the pipe full), the
         * standard 1408-byte MTU, in {@link #defaultBaseDirectory()}.
         */
        public static Settings defaults() {
            return new Settings(defaultBaseDirectory(), DEFAULT_TERM_LENGTH, DEFAULT_SOCKET_BUFFER_LENGTH,
                    DEFAULT_MTU_LENGTH);
        }

        /**
         * {@code /dev/shm} where it is a writable directory with at least {@link #MIN_SHM_BYTES} free
         * (Linux), else {@code java.io.tmpdir}: the log buffers are memory-mapped files, which Aeron keeps
         * in memory where it can (on a disk-backed file system the kernel writes their dirty pages back;
         * no speed difference was measured here). A container's /dev/shm is often 64 MiB, and a full
         * tmpfs kills the JVM with SIGBUS rather than failing a send, hence the floor.
         */
        public static Path defaultBaseDirectory() {
            Path shm = Paths.get("/dev/shm");
            try {
                if (java.nio.file.Files.isDirectory(shm) && java.nio.file.Files.isWritable(shm)
                        && java.nio.file.Files.getFileStore(shm).getUsableSpace() >= MIN_SHM_BYTES) {
                    return shm;
                }
            } catch (java.io.IOException e) {
                LOG.info("/dev/shm unusable for the data plane ({}); using java.io.tmpdir", e.toString());
            }
            return Paths.get(System.getProperty("java.io.tmpdir"));
        }

        /** Free space /dev/shm needs to hold the log buffers: 12 MiB per publication or image, for a few dozen. */
        public static final long MIN_SHM_BYTES = 512L * 1024 * 1024;

        public Settings withBaseDirectory(Path dir) {
            return new Settings(dir, termLength, socketBufferLength, mtuLength);
        }

        public Settings withMtuLength(int mtu) {
            return new Settings(baseDirectory, termLength, socketBufferLength, mtu);
        }
    }

    private final Path directory;
    private final MediaDriver driver;
    private final Aeron aeron;

    private DataPlane(Settings settings) {
        directory = settings.baseDirectory().resolve(
                "tributary-aeron-" + ProcessHandle.current().pid() + "-" + INSTANCES.incrementAndGet());
        int window = Math.min(settings.socketBufferLength(), settings.termLength() / 2);
        MediaDriver.Context driverContext = new MediaDriver.Context()
                .aeronDirectoryName(directory.toString())
                .dirDeleteOnStart(true)
                .dirDeleteOnShutdown(true)
                .threadingMode(ThreadingMode.SHARED)
                .sharedIdleStrategy(new BackoffIdleStrategy(10, 5, 10_000, 1_000_000))
                .termBufferSparseFile(true)
                .publicationTermBufferLength(settings.termLength())
                .ipcTermBufferLength(settings.termLength())
                .socketSndbufLength(settings.socketBufferLength())
                .socketRcvbufLength(settings.socketBufferLength())
                .initialWindowLength(window)
                .mtuLength(settings.mtuLength())
                .errorHandler(t -> LOG.error("Aeron media driver error in {}", directory, t));
        MediaDriver launched = MediaDriver.launch(driverContext);
        try {
            aeron = Aeron.connect(new Aeron.Context()
                    .aeronDirectoryName(launched.aeronDirectoryName())
                    .errorHandler(t -> LOG.error("Aeron client error in {}", directory, t)));
        } catch (RuntimeException e) {
            CloseHelper.quietClose(launched);
            throw e;
        }
        driver = launched;
        LOG.info("Data plane up in {} (shared threading, term {} B, socket buffers {} B, window {} B, MTU {} B)",
                directory, settings.termLength(), settings.socketBufferLength(), window, settings.mtuLength());
    }

    /** Starts a driver and client with {@link Settings#defaults()}. */
    public static DataPlane launch() {
        return launch(Settings.defaults());
    }

    /** Starts a driver and client with the given settings. */
    public static DataPlane launch(Settings settings) {
        requireUnsafeAccess();
        return new DataPlane(settings);
    }

    /** JVM option that Agrona 2.x (under Aeron and this package) needs on JDK 17+. */
    public static final String REQUIRED_JVM_OPTION = "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED";

    /**
     * Fails with the fix in the message when the JVM does not export {@code jdk.internal.misc} to this
     * code: Agrona 2.x reaches its buffers through {@code jdk.internal.misc.Unsafe}, and otherwise fails
     * later with an {@code IllegalAccessError} deep inside Aeron.
     */
    public static void requireUnsafeAccess() {
        if (!Object.class.getModule().isExported("jdk.internal.misc", DataPlane.class.getModule())) {
            throw new IllegalStateException("the data plane needs the JVM option '" + REQUIRED_JVM_OPTION
                    + "' (Agrona 2.x uses jdk.internal.misc.Unsafe): add it to the java command line or JDK_JAVA_OPTIONS");
        }
    }

    /** UDP channel to {@code host:port}, e.g. {@code aeron:udp?endpoint=127.0.0.1:40123}. */
    public static String udpChannel(String host, int port) {
        if (port < 0 || port > 65535) {
            // 0 asks the media driver for a free port (subscriptions only; see tryResolveChannelEndpointPort)
            throw new IllegalArgumentException("port " + port + " out of range 0..65535");
        }
        return "aeron:udp?endpoint=" + host + ":" + port;
    }

    /**
     * Adds a single-writer publication (only the thread that owns its {@link FramePublisher} may offer);
     * blocks until the driver has created it.
     */
    public ExclusivePublication addPublication(String channel, int streamId) {
        return aeron.addExclusivePublication(channel, streamId);
    }

    /** Adds a subscription; blocks until the driver has created it. */
    public Subscription addSubscription(String channel, int streamId) {
        return aeron.addSubscription(channel, streamId);
    }

    /**
     * Waits, at most {@code timeout}, until {@code publication} has a connected subscriber.
     *
     * @return whether it connected in time
     */
    public static boolean awaitConnected(Publication publication, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!publication.isConnected()) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            Thread.sleep(1);
        }
        return true;
    }

    /** Waits, at most {@code timeout}, until {@code subscription} has at least {@code images} publishers. */
    public static boolean awaitImages(Subscription subscription, int images, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (subscription.imageCount() < images) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            Thread.sleep(1);
        }
        return true;
    }

    /** The Aeron client, for what this class does not wrap (counters, images, raw channels). */
    public Aeron aeron() {
        return aeron;
    }

    /** The driver directory of this instance. */
    public Path directory() {
        return directory;
    }

    /** Closes the client, then the driver, and deletes the driver directory. */
    @Override
    public void close() {
        CloseHelper.closeAll(aeron, driver);
        if (Files.exists(directory)) {
            IoUtil.delete(directory.toFile(), true);
        }
    }
}
