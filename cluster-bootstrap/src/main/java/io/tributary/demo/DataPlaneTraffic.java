package io.tributary.demo;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads what the local cluster's data planes sent from each node's {@code /metrics}
 * ({@code tributary_dataplane_frame_bytes_sent_total}: frame bytes, headers included, as encoded).
 */
final class DataPlaneTraffic {

    static final String METRIC = "tributary_dataplane_frame_bytes_sent_total";
    private static final Logger LOG = LoggerFactory.getLogger(DataPlaneTraffic.class);

    private DataPlaneTraffic() {
    }

    /** The sum over {@code endpoints}, or -1 when one of them cannot be read (the reason is logged). */
    static long bytesSent(List<String> endpoints) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long total = 0;
        for (String url : endpoints) {
            try {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5))
                        .GET().build(), HttpResponse.BodyHandlers.ofString());
                long v = parse(r.body());
                if (r.statusCode() != 200 || v < 0) {
                    LOG.warn("data-plane traffic: {} answered {} without {}; the total is unknown", url,
                            r.statusCode(), METRIC);
                    return -1;
                }
                total += v;
            } catch (IOException e) {
                LOG.warn("data-plane traffic: could not read {}: {}; the total is unknown", url, e.toString());
                return -1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1;
            }
        }
        return total;
    }

    /** The metric's value in a Prometheus text exposition, or -1 when it is not there. */
    static long parse(String exposition) {
        for (String line : exposition.split("\n")) {
            if (line.startsWith(METRIC + " ") || line.startsWith(METRIC + "{")) {
                String value = line.substring(line.lastIndexOf(' ') + 1).trim();
                try {
                    return (long) Double.parseDouble(value);
                } catch (NumberFormatException e) {
                    LOG.warn("data-plane traffic: '{}' is not a number in '{}'", value, line);
                    return -1;
                }
            }
        }
        return -1;
    }
}
