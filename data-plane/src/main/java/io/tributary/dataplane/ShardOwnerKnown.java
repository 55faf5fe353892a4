package io.tributary.dataplane;

/**
 * Published on a node's own event stream (never sent) when the owner of parameter shard {@code shard} became known
 * or changed, or is known again after its parameters were refused as not the owner's ({@link FrameGrants#owners}):
 * whoever waits on that shard's parameters asks again, since refused frames are gone.
 */
public record ShardOwnerKnown(int shard) {
}
