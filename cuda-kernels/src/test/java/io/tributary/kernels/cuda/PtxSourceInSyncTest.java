package io.tributary.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The committed PTX must be the one built from the current .cu source, and must declare every
 * kernel the Java side launches with the parameter kinds it passes. Needs no GPU.
 */
class PtxSourceInSyncTest {

    private static final Path SOURCE = Path.of("src/main/cuda/tributary_kernels.cu");
    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+(\\w+)\\s*\\(([^)]*)\\)");
    private static final Pattern PARAM = Pattern.compile("\\.param\\s+\\.(\\w+)\\s+\\w+");

    @Test
    void committedPtxWasBuiltFromTheCurrentSource() throws IOException, NoSuchAlgorithmException {
        assumeTrue(Files.isRegularFile(SOURCE), "no CUDA source at " + SOURCE.toAbsolutePath()
                + " (running outside the module directory)");
        String actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(SOURCE)));
        String recorded = resource("tributary_kernels.cu.sha256").trim();
        assertEquals(recorded, actual, SOURCE + " changed since the PTX was generated: run cuda-kernels/build-ptx.sh "
                + "and commit the new tributary_kernels.ptx and tributary_kernels.cu.sha256");
    }

    @Test
    void ptxDeclaresEveryKernelTheBackendLaunchesWithMatchingParameters() throws IOException {
        Map<String, String> declared = new LinkedHashMap<>();
        Matcher entry = ENTRY.matcher(resource(PtxKernels.PTX_RESOURCE));
        while (entry.find()) {
            StringBuilder kinds = new StringBuilder();
            Matcher param = PARAM.matcher(entry.group(2));
            while (param.find()) {
                kinds.append(switch (param.group(1)) {
                    case "u64", "b64", "s64" -> 'p';
                    case "u32", "s32", "b32" -> 'i';
                    case "f32" -> 'f';
                    default -> '?';
                });
            }
            declared.put(entry.group(1), kinds.toString());
        }
        for (String[] kernel : PtxKernels.ENTRIES) {
            String signature = declared.get(kernel[0]);
            assertNotNull(signature, "PTX lacks entry " + kernel[0] + "; declared: " + declared.keySet()
                    + " (edit tributary_kernels.cu and run build-ptx.sh)");
            assertEquals(kernel[1], signature, "parameter kinds of " + kernel[0]
                    + " in PtxKernels.ENTRIES vs the PTX (p = pointer, i = int, f = float)");
        }
        assertEquals(PtxKernels.ENTRIES.size(), declared.size(),
                "PTX entries not launched from Java (dead kernels?): " + declared.keySet());
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = PtxKernels.class.getResourceAsStream(name)) {
            assertNotNull(in, "resource " + name + " is missing next to PtxKernels; run cuda-kernels/build-ptx.sh");
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }
}
