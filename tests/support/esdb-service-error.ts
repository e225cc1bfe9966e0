import { Metadata, status, type ServiceError } from '@grpc/grpc-js';

/** A failed gRPC call's error, as grpc-js's callErrorFromStatus builds it; the client converts it with convertToCommandError. */
export function serviceError(code: status, details: string, metadata: Record<string, string> = {}): ServiceError {
  const map = new Metadata();
  for (const [key, value] of Object.entries(metadata)) map.set(key, value);
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: map });
}
