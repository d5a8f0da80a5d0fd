// <preset>/phase0/ssz_static: every phase 0 container of config.types against serialized.ssz, roots.yaml, value.yaml.
//
// Cairn holds uint64 as a JS number (UintNumberType) wherever the spec refuses values from 2^53 on, and as a bigint
// where it accepts any value (src/types/primitive.ts). The random vectors fill uint64 fields with values up to
// 2^64-1, which a number cannot hold: ssz deserializes a container's uint64 field through a number, even into a tree
// view, so such a value is rounded and the root and bytes change. Only packed basic lists/vectors (balances,
// slashings, attesting indices) keep the original bytes. Those values never occur in a valid block.
//
// So each case is checked twice:
//  - with a "bigint twin" of the type: the same structure (field order, limits, nesting) with every 64-bit uint as
//    a bigint. This is exact for every vector and checks the type definitions themselves;
//  - with the real config.types type, whenever every uint64 of the case fits in a number (or is 2^64-1 in a
//    clipInfinity field, held as Infinity). That is the path the client runs.
import {
  BitListType,
  BitVectorType,
  BooleanType,
  ByteListType,
  ByteVectorType,
  ContainerType,
  ListBasicType,
  ListCompositeType,
  UintBigintType,
  UintNumberType,
  VectorBasicType,
  VectorCompositeType,
  type CompositeTypeAny,
  type Type,
} from "@chainsafe/ssz";
import {
  assert,
  assertBytesEqual,
  diffJson,
  fromHex,
  normalizeJson,
  type CaseFn,
  type Runner,
  type SpecCase,
  type TreeViewLike,
} from "../harness.js";

type AnyType = Type<unknown>;
type AnyComposite = CompositeTypeAny;

const MAX_UINT64 = 2n ** 64n - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const twins = new WeakMap<AnyType, AnyType>();

/** The same SSZ type with every 64-bit UintNumberType replaced by UintBigintType(8). */
export function bigintTwin(type: AnyType): AnyType {
  let twin = twins.get(type);
  if (!twin) {
    twin = makeTwin(type);
    twins.set(type, twin);
  }
  return twin;
}

// The parts of ssz's container and array types that the twin needs (public fields, typed loosely here).
interface ContainerParts {
  fields: Record<string, AnyType>;
  opts?: ConstructorParameters<typeof ContainerType>[1];
}
interface ArrayParts {
  elementType: AnyType;
  limit: number;
  length: number;
}

function makeTwin(type: AnyType): AnyType {
  if (type instanceof UintNumberType) return type.byteLength === 8 ? (new UintBigintType(8) as AnyType) : type;
  if (
    type instanceof UintBigintType ||
    type instanceof BooleanType ||
    type instanceof ByteVectorType ||
    type instanceof ByteListType ||
    type instanceof BitVectorType ||
    type instanceof BitListType
  ) {
    return type;
  }
  // Also covers ContainerNodeStructType (a subclass): merkleization and serialization are the same.
  if (type instanceof ContainerType) {
    const { fields, opts } = type as unknown as ContainerParts;
    const twinFields: Record<string, AnyType> = {};
    for (const [name, fieldType] of Object.entries(fields)) twinFields[name] = bigintTwin(fieldType);
    return new ContainerType(twinFields, opts) as AnyType;
  }
  const { elementType, limit, length } = type as unknown as ArrayParts;
  const el = bigintTwin(elementType) as never;
  // ListBasicType also covers ListUintNum64Type (a subclass).
  if (type instanceof ListBasicType) return new ListBasicType(el, limit) as AnyType;
  if (type instanceof VectorBasicType) return new VectorBasicType(el, length) as AnyType;
  if (type instanceof ListCompositeType) return new ListCompositeType(el, limit) as AnyType;
  if (type instanceof VectorCompositeType) return new VectorCompositeType(el, length) as AnyType;
  // A new kind of type must be added here rather than silently compared with the number representation.
  throw new Error(`bigintTwin: unsupported SSZ type ${type.typeName}`);
}

/** Whether every uint64 in `value` (a value of the bigint twin) is held exactly by the number-typed `type`. */
function fitsNumberTypes(type: AnyType, value: unknown): boolean {
  if (type instanceof UintNumberType) {
    if (type.byteLength !== 8) return true;
    const v = value as bigint;
    // clipInfinity (Slot, Epoch) holds 2^64-1 as Infinity; the option is private in ssz's typings.
    const { clipInfinity } = type as unknown as { clipInfinity: boolean };
    return v <= MAX_SAFE || (clipInfinity && v === MAX_UINT64);
  }
  if (type instanceof ContainerType) {
    const { fields } = type as unknown as ContainerParts;
    const v = value as Record<string, unknown>;
    return Object.entries(fields).every(([name, fieldType]) => fitsNumberTypes(fieldType, v[name]));
  }
  if (
    type instanceof ListBasicType ||
    type instanceof VectorBasicType ||
    type instanceof ListCompositeType ||
    type instanceof VectorCompositeType
  ) {
    const { elementType } = type as unknown as ArrayParts;
    return (value as unknown[]).every((el) => fitsNumberTypes(elementType, el));
  }
  return true;
}

let casesTotal = 0;
let casesNumberChecked = 0;

/** Deserialize, re-serialize, hash and compare with value.yaml through one type (value path and tree path). */
function checkType(type: AnyComposite, serialized: Uint8Array, root: Uint8Array, expectedJson: unknown, label: string) {
  const view = type.deserializeToViewDU(serialized) as TreeViewLike;
  assertBytesEqual(view.hashTreeRoot(), root, `${label}: tree view hash_tree_root`);
  assertBytesEqual(view.serialize(), serialized, `${label}: tree view serialize`);
  const diff = diffJson(normalizeJson(type.toJson(view.toValue())), expectedJson);
  assert(diff === null, `${label}: tree view value differs from value.yaml: ${diff}`);

  const value = type.deserialize(serialized);
  assertBytesEqual(type.hashTreeRoot(value), root, `${label}: value hash_tree_root`);
  assertBytesEqual(type.serialize(value), serialized, `${label}: value serialize`);
  assertBytesEqual(type.serialize(type.fromJson(expectedJson)), serialized, `${label}: serialize(value.yaml)`);
}

function sszStaticCase(c: SpecCase): void {
  const type = (c.config.types as unknown as Record<string, AnyComposite | undefined>)[c.handler];
  if (!type) throw new Error(`config.types has no SSZ type "${c.handler}"`);
  const serialized = c.bytes("serialized.ssz");
  const root = fromHex((c.yaml("roots.yaml") as { root: unknown }).root);
  const expectedJson = normalizeJson(c.yaml("value.yaml"));

  casesTotal++;
  const twin = bigintTwin(type as AnyType) as AnyComposite;
  checkType(twin, serialized, root, expectedJson, "bigint twin");
  if (fitsNumberTypes(type as AnyType, twin.deserialize(serialized))) {
    casesNumberChecked++;
    checkType(type, serialized, root, expectedJson, "config.types");
  }
}

// The 27 phase 0 types with ssz_static vectors; any other directory is reported as unregistered.
const TYPE_NAMES = [
  "AggregateAndProof",
  "Attestation",
  "AttestationData",
  "AttesterSlashing",
  "BeaconBlock",
  "BeaconBlockBody",
  "BeaconBlockHeader",
  "BeaconState",
  "Checkpoint",
  "Deposit",
  "DepositData",
  "DepositMessage",
  "Eth1Block",
  "Eth1Data",
  "Fork",
  "ForkData",
  "HistoricalBatch",
  "IndexedAttestation",
  "PendingAttestation",
  "ProposerSlashing",
  "SignedAggregateAndProof",
  "SignedBeaconBlock",
  "SignedBeaconBlockHeader",
  "SignedVoluntaryExit",
  "SigningData",
  "Validator",
  "VoluntaryExit",
];

export const sszStaticRunner: Runner = {
  handlers: Object.fromEntries(TYPE_NAMES.map((name) => [name, sszStaticCase as CaseFn])),
  notes: () =>
    casesTotal === 0
      ? []
      : [
          `ssz_static: config.types checked on ${casesNumberChecked} of ${casesTotal} cases; the other ` +
            `${casesTotal - casesNumberChecked} hold uint64 values above 2^53 in number fields: checked with the bigint twin only`,
        ],
};
