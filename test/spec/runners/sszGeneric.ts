// general/phase0/ssz_generic: SSZ types built from the case names (tests/formats/ssz_generic/README.md).
import {
  BitListType,
  BitVectorType,
  BooleanType,
  ByteListType,
  ContainerType,
  ListBasicType,
  UintBigintType,
  UintNumberType,
  VectorBasicType,
  VectorCompositeType,
  isCompositeType,
  type Type,
} from "@chainsafe/ssz";
import {
  assert,
  assertBytesEqual,
  diffJson,
  expectThrow,
  fromHex,
  normalizeJson,
  type CaseFn,
  type Runner,
  type SpecCase,
  type TreeViewLike,
} from "../harness.js";

type AnyType = Type<unknown>;

function uintType(bits: number): AnyType {
  if (![8, 16, 32, 64, 128, 256].includes(bits)) throw new Error(`invalid uint size ${bits}`);
  // Number up to 32 bits; bigint from 64 bits on so that every value of the type is exact.
  const bytes = (bits / 8) as 1 | 2 | 4 | 8 | 16 | 32;
  return (bytes <= 4 ? new UintNumberType(bytes as 1 | 2 | 4) : new UintBigintType(bytes)) as AnyType;
}

function elementType(name: string): AnyType {
  if (name === "bool") return new BooleanType() as AnyType;
  const m = /^uint(\d+)$/.exec(name);
  if (!m) throw new Error(`unknown element type ${name}`);
  return uintType(Number(m[1]));
}

/** A type the SSZ spec does not allow; the invalid suite includes some (e.g. vec_bool_0). */
class IllegalTypeError extends Error {}

function positive(n: number, what: string): number {
  if (!(n > 0)) throw new IllegalTypeError(`${what} must have a positive length`);
  return n;
}

const byte = new UintNumberType(1);
const uint16 = new UintNumberType(2);
const uint32 = new UintNumberType(4);
const uint64 = new UintBigintType(8);

// The test containers, with the field names of the Python definitions (no jsonCase, keys are A, B, ...).
const SingleFieldTestStruct = new ContainerType({ A: byte }, { typeName: "SingleFieldTestStruct" });
const SmallTestStruct = new ContainerType({ A: uint16, B: uint16 }, { typeName: "SmallTestStruct" });
const FixedTestStruct = new ContainerType({ A: byte, B: uint64, C: uint32 }, { typeName: "FixedTestStruct" });
const VarTestStruct = new ContainerType(
  { A: uint16, B: new ListBasicType(uint16, 1024), C: byte },
  { typeName: "VarTestStruct" },
);
const ComplexTestStruct = new ContainerType(
  {
    A: uint16,
    B: new ListBasicType(uint16, 128),
    C: byte,
    D: new ByteListType(256),
    E: VarTestStruct,
    F: new VectorCompositeType(FixedTestStruct, 4),
    G: new VectorCompositeType(VarTestStruct, 2),
  },
  { typeName: "ComplexTestStruct" },
);
const BitsStruct = new ContainerType(
  {
    A: new BitListType(5),
    B: new BitVectorType(2),
    C: new BitVectorType(1),
    D: new BitListType(6),
    E: new BitVectorType(8),
  },
  { typeName: "BitsStruct" },
);
const containers: Record<string, AnyType> = {
  SingleFieldTestStruct,
  SmallTestStruct,
  FixedTestStruct,
  VarTestStruct,
  ComplexTestStruct,
  BitsStruct,
} as unknown as Record<string, AnyType>;

/** Type of a case from its name, per handler; throws for a name it cannot parse or a type that cannot exist. */
function typeFromCaseName(handler: string, name: string): AnyType {
  let m: RegExpExecArray | null;
  switch (handler) {
    case "basic_vector":
      if ((m = /^vec_(bool|uint\d+)_(\d+)/.exec(name))) {
        return new VectorBasicType(elementType(m[1]) as never, positive(Number(m[2]), "vector")) as AnyType;
      }
      break;
    case "bitlist":
      if ((m = /^bitlist_(\d+)/.exec(name))) return new BitListType(Number(m[1])) as AnyType;
      // bitlist_no_delimiter_*: no limit in the name. A generous limit leaves only the missing delimiter bit
      // (not the length) as the reason to reject.
      if (/^bitlist_no_delimiter/.test(name)) return new BitListType(2048) as AnyType;
      break;
    case "bitvector":
      if ((m = /^bitvec_(\d+)/.exec(name))) return new BitVectorType(positive(Number(m[1]), "bitvector")) as AnyType;
      break;
    case "boolean":
      return new BooleanType() as AnyType;
    case "uints":
      if ((m = /^uint_(\d+)/.exec(name))) return uintType(Number(m[1]));
      break;
    case "containers":
      if ((m = /^([A-Za-z]+)_/.exec(name)) && containers[m[1]]) return containers[m[1]];
      break;
  }
  throw new Error(`cannot derive an SSZ type from case name "${name}" (handler ${handler})`);
}

function runValid(c: SpecCase): void {
  const type = typeFromCaseName(c.handler, c.name);
  const serialized = c.bytes("serialized.ssz");
  const expectedJson = normalizeJson(c.yaml("value.yaml"));
  const root = fromHex((c.yaml("meta.yaml") as { root: unknown }).root);

  // Decoding: serialized -> value must equal value.yaml.
  const value = type.deserialize(serialized);
  const diff = diffJson(normalizeJson(type.toJson(value)), expectedJson);
  assert(diff === null, `deserialized value differs from value.yaml: ${diff}`);

  // Encoding: value.yaml -> serialize must equal serialized.
  const fromYaml = type.fromJson(expectedJson);
  assertBytesEqual(type.serialize(fromYaml), serialized, "serialize(value.yaml)");

  assertBytesEqual(type.hashTreeRoot(value), root, "hash_tree_root");

  // Composite types also have the tree-backed path (what the state transition uses): same bytes, same root.
  if (isCompositeType(type)) {
    const view = type.deserializeToViewDU(serialized) as TreeViewLike;
    assertBytesEqual(view.serialize(), serialized, "tree view serialize");
    assertBytesEqual(view.hashTreeRoot(), root, "tree view hash_tree_root");
  }
}

async function runInvalid(c: SpecCase): Promise<void> {
  const serialized = c.bytes("serialized.ssz");
  // Either the type itself is illegal (a zero-length vector) or the bytes must be rejected.
  let type: AnyType;
  try {
    type = typeFromCaseName(c.handler, c.name);
  } catch (e) {
    if (e instanceof IllegalTypeError) return;
    throw e;
  }
  await expectThrow(() => type.deserialize(serialized), "deserialize");
  if (isCompositeType(type)) await expectThrow(() => type.deserializeToViewDU(serialized), "deserializeToViewDU");
}

const sszGenericCase: CaseFn = (c) => {
  if (c.suite === "valid") return runValid(c);
  if (c.suite === "invalid") return runInvalid(c);
  throw new Error(`unknown ssz_generic suite "${c.suite}"`);
};

export const sszGenericRunner: Runner = {
  handlers: {
    basic_vector: sszGenericCase,
    bitlist: sszGenericCase,
    bitvector: sszGenericCase,
    boolean: sszGenericCase,
    containers: sszGenericCase,
    uints: sszGenericCase,
  },
};
