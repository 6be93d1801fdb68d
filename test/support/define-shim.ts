// What a stream declaration imports as `etl-temporal/define`, for tests that load a generated
// declaration module from a folder of their own (test/support/declarations.ts).
export { defineStream } from '../../streams/define';
export { z } from 'zod';
