/** An admin endpoint: method, path, the query keys MinIO routes on, and its handler. */
import type { AdminCall, AdminResponse } from './call.js';

export interface AdminRoute {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD';
  op: string;
  /** Query keys that must be present (values may be empty) for the route to match. */
  query?: string[];
  handle(call: AdminCall): Promise<AdminResponse>;
}
