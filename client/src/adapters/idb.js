// Promise wrappers over IndexedDB, shared by the sync metadata, the device table and the demo store.

/**
 * @param {IDBFactory} factory
 * @param {string} name
 * @param {number} version
 * @param {(db: IDBDatabase) => void} upgrade creates the object stores of a new or older database
 * @returns {Promise<IDBDatabase>}
 */
export function openDatabase(factory, name, version, upgrade) {
  return new Promise((resolve, reject) => {
    const opening = factory.open(name, version);
    opening.onupgradeneeded = () => upgrade(opening.result);
    opening.onsuccess = () => {
      const db = opening.result;
      // Another tab upgrading the schema must not be blocked by this tab's open connection.
      db.onversionchange = () => db.close();
      resolve(db);
    };
    opening.onerror = () => reject(opening.error);
    opening.onblocked = () => reject(new DOMException(`Database ${name} is blocked by an older tab`, 'InvalidStateError'));
  });
}

/**
 * @template T
 * @param {IDBRequest<T>} pending
 * @returns {Promise<T>}
 */
export function settled(pending) {
  return new Promise((resolve, reject) => {
    pending.onsuccess = () => resolve(pending.result);
    pending.onerror = () => reject(pending.error);
  });
}

/**
 * Runs `work` in one transaction and resolves with its result once the transaction commits,
 * so a caller never acts on a write that could still abort (for example on a quota error).
 * `work` may await requests of this transaction, but nothing else (the transaction would end).
 * @template T
 * @param {IDBDatabase} db
 * @param {string[]} storeNames
 * @param {IDBTransactionMode} mode
 * @param {(stores: (name: string) => IDBObjectStore) => Promise<T>} work
 * @returns {Promise<T>}
 */
export function inTransaction(db, storeNames, mode, work) {
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(storeNames, mode);
    /** @type {T} */
    let result;
    transaction.oncomplete = () => resolve(result);
    transaction.onabort = () => reject(transaction.error ?? new DOMException('Transaction aborted', 'AbortError'));
    work((name) => transaction.objectStore(name)).then(
      (value) => { result = value; },
      (error) => {
        reject(error);
        try {
          transaction.abort();
        } catch {
          // Already finished: the transaction's own error is the one that was reported.
        }
      },
    );
  });
}

/**
 * @param {IDBDatabase} db
 * @param {string} store
 * @returns {Promise<any[]>}
 */
export function readAll(db, store) {
  return settled(db.transaction(store).objectStore(store).getAll());
}

/**
 * The keys alone: a store's records may be large (a project's data, a queued write).
 * @param {IDBDatabase} db
 * @param {string} store
 * @returns {Promise<string[]>}
 */
export async function readKeys(db, store) {
  return /** @type {string[]} */ (await settled(db.transaction(store).objectStore(store).getAllKeys()));
}

/**
 * @param {IDBDatabase} db
 * @param {string} store
 * @param {IDBValidKey} key
 * @returns {Promise<any>}
 */
export function readOne(db, store, key) {
  return settled(db.transaction(store).objectStore(store).get(key));
}

/** @returns {IDBFactory} */
export function defaultIndexedDB() {
  if (!globalThis.indexedDB) throw new Error('IndexedDB is not available here; pass the `indexedDB` option');
  return globalThis.indexedDB;
}
