package io.tributary.protocol;

/**
 * How a flat parameter vector of {@code totalParameters} floats is cut into {@code shardCount}
 * contiguous, balanced ranges: shard {@code k} owns {@code [offset(k), offset(k) + length(k))}.
 * The first {@code total % shards} shards hold one extra element. Every node computes the same
 * layout from the same two numbers, so no layout travels on the wire.
 */
public record ShardLayout(int totalParameters, int shardCount) {

    public ShardLayout {
        if (shardCount < 1) {
            throw new IllegalArgumentException("tributary.cluster.shards must be >= 1, got " + shardCount);
        }
        if (totalParameters < shardCount) {
            throw new IllegalArgumentException("cannot cut " + totalParameters + " parameters into " + shardCount
                    + " shards: use at most " + totalParameters + " shards");
        }
    }

    public int offset(int shard) {
        check(shard);
        int base = totalParameters / shardCount;
        int extra = totalParameters % shardCount;
        return shard * base + Math.min(shard, extra);
    }

    public int length(int shard) {
        check(shard);
        int base = totalParameters / shardCount;
        return base + (shard < totalParameters % shardCount ? 1 : 0);
    }

    /** The shard that owns parameter {@code index}. */
    public int shardOf(int index) {
        if (index < 0 || index >= totalParameters) {
            throw new IndexOutOfBoundsException("parameter " + index + " outside 0.." + (totalParameters - 1));
        }
        int base = totalParameters / shardCount;
        int extra = totalParameters % shardCount;
        int bigEnd = extra * (base + 1);
        return index < bigEnd ? index / (base + 1) : extra + (index - bigEnd) / base;
    }

    private void check(int shard) {
        if (shard < 0 || shard >= shardCount) {
            throw new IndexOutOfBoundsException("shard " + shard + " outside 0.." + (shardCount - 1));
        }
    }
}
