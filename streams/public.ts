// The one module of the product a stream declaration imports, as `etl-temporal/define`
// (docs/streams.md): the function that declares a stream, zod to write its schema with, and the
// types of what it declares. The loader (./loader.ts) refuses a declaration importing anything else
// of the product, so what is here is the whole contract between a declaration and the platform.
export { z } from 'zod';
export { defineStream, type StreamDeclaration } from './define';
export type { ColumnDecl, SyntheticSource, SyntheticMessage, SyntheticFlag, ValidationContext } from './types';
export type { SearchFieldType } from '../lib/search';
