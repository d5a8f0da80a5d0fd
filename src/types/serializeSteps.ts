// A container's tree serialized in steps: the generator stops between fields and, inside the validator registry,
// every few thousand validators. At 100,000 validators a BeaconState is ~13 MB and serializing it in one piece held
// the event loop for 40 to 90 ms; a caller that drives the generator can let other work run between steps. Same
// bytes as the type's tree_serializeToBytes (the container layout of the SSZ spec: fixed parts and offsets first,
// then the variable-size fields in order).
import { getNodesAtDepth, type Node } from "@chainsafe/persistent-merkle-tree";
import type { ByteViews, Type } from "@chainsafe/ssz";
import { serializeValidatorListSteps, ValidatorListType } from "./validator.js";

/** validators serialized between two stops (~3 µs each with the tree walk: ~12 ms) */
const VALIDATORS_PER_STEP = 4096;

/** What of a container type the steps read (ssz's ContainerType, and the state's generic container type). */
export interface ContainerLayout {
  readonly fieldsEntries: readonly { fieldType: Type<unknown> }[];
  readonly depth: number;
  readonly fixedEnd: number;
}

export function* serializeContainerSteps(
  type: ContainerLayout,
  node: Node,
  output: ByteViews,
  offset: number,
): Generator<void, number, void> {
  const fields = type.fieldsEntries;
  const nodes = getNodesAtDepth(node, type.depth, 0, fields.length);
  let fixedIndex = offset;
  let variableIndex = offset + type.fixedEnd;
  for (let i = 0; i < fields.length; i++) {
    const fieldType = fields[i].fieldType;
    if (fieldType.fixedSize === null) {
      output.dataView.setUint32(fixedIndex, variableIndex - offset, true);
      fixedIndex += 4;
      variableIndex =
        fieldType instanceof ValidatorListType
          ? yield* serializeValidatorListSteps(fieldType, nodes[i], output, variableIndex, VALIDATORS_PER_STEP)
          : fieldType.tree_serializeToBytes(output, variableIndex, nodes[i]);
    } else {
      fixedIndex = fieldType.tree_serializeToBytes(output, fixedIndex, nodes[i]);
    }
    if (i < fields.length - 1) yield;
  }
  return variableIndex;
}
