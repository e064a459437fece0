/** Where the SDK keeps its outbox and watermarks. Values are JSON; every call may be asynchronous. */
export interface ParleyStorage {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  keys(): Promise<string[]>;
}

/** Storage that lasts as long as the object: the default outside browsers. */
export function memoryStorage(): ParleyStorage {
  const map = new Map<string, string>();
  return {
    get: async (k) => {
      const v = map.get(k);
      return v === undefined ? undefined : JSON.parse(v);
    },
    set: async (k, v) => void map.set(k, JSON.stringify(v)),
    delete: async (k) => void map.delete(k),
    keys: async () => [...map.keys()],
  };
}

interface IdbRequest<T> {
  result: T;
  error: unknown;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}
interface IdbStore {
  get(k: string): IdbRequest<unknown>;
  put(v: unknown, k: string): IdbRequest<unknown>;
  delete(k: string): IdbRequest<unknown>;
  getAllKeys(): IdbRequest<string[]>;
}
interface IdbDatabase {
  createObjectStore(name: string): unknown;
  transaction(name: string, mode: string): { objectStore(name: string): IdbStore };
}
interface IdbFactory {
  open(name: string, version: number): IdbRequest<IdbDatabase> & { onupgradeneeded: (() => void) | null };
}

/** IndexedDB storage (one object store in database `name`): the default in browsers. */
export function indexedDbStorage(name = 'parley', factory = (globalThis as { indexedDB?: IdbFactory }).indexedDB): ParleyStorage {
  if (!factory) throw new Error('IndexedDB is not available here');
  const done = <T>(r: IdbRequest<T>) =>
    new Promise<T>((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  const open = factory.open(name, 1);
  open.onupgradeneeded = () => open.result.createObjectStore('kv');
  const db = done(open);
  const store = async (mode: string) => (await db).transaction('kv', mode).objectStore('kv');
  return {
    get: async (k) => done((await store('readonly')).get(k)),
    set: async (k, v) => void (await done((await store('readwrite')).put(v, k))),
    delete: async (k) => void (await done((await store('readwrite')).delete(k))),
    keys: async () => (await done((await store('readonly')).getAllKeys())).map(String),
  };
}
