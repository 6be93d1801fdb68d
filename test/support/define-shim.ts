// What a stream declaration imports as `etl-temporal/define`, for tests that load a generated
// declaration module from a folder of their own (test/support/declarations.ts). It keeps each
// declaration beside the stream built from it, so a test can create the stream's tables.
import { defineStream as define, type StreamDeclaration } from '../../streams/define';
import type { StreamSpec } from '../../streams/types';

export { z } from 'zod';

export const declarations = new WeakMap<StreamSpec, StreamDeclaration<unknown>>();

export function defineStream<Event>(d: StreamDeclaration<Event>): StreamSpec {
  const spec = define(d);
  declarations.set(spec, d as StreamDeclaration<unknown>);
  return spec;
}
