// The stack's Kafka health probe places one group on every partition of __consumer_offsets, which
// only works if it hashes group ids exactly as the broker does.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { javaStringHash, offsetsPartitionOf, probeGroupPerPartition } from '../../client/stack/kafka-groups';

describe('Kafka group placement', () => {
  it("hashes as Java's String.hashCode (values printed by jshell), overflow and surrogate pairs included", () => {
    assert.equal(javaStringHash(''), 0);
    assert.equal(javaStringHash('hello'), 99162322);
    assert.equal(javaStringHash('polygenelubricants'), -2147483648);
    assert.equal(javaStringHash('etl-stack-probe-7'), 1389339365);
    assert.equal(javaStringHash('transactions-archive é€😀'), -1918172260);
  });

  it("maps a group to a partition with Kafka's abs, in which the one hash with no positive twin is 0", () => {
    assert.equal(offsetsPartitionOf('hello', 50), 99162322 % 50);
    assert.equal(offsetsPartitionOf('transactions-archive é€😀', 50), 1918172260 % 50);
    assert.equal(offsetsPartitionOf('polygenelubricants', 50), 0);
  });

  for (const partitions of [1, 3, 50]) {
    it(`names one probe group per partition of a ${partitions}-partition offsets topic`, () => {
      const groups = probeGroupPerPartition(partitions);
      assert.equal(groups.length, partitions);
      assert.deepEqual(
        groups.map((g) => offsetsPartitionOf(g, partitions)),
        Array.from({ length: partitions }, (_, p) => p),
      );
      assert.equal(new Set(groups).size, partitions);
    });
  }
});
