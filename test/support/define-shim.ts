// What a stream declaration imports as `etl-temporal/define`, for a unit test that imports a
// generated declaration module directly rather than through the loader (test/support/declaration-shim.ts).
export { defineStream, z } from '../../streams/public';
