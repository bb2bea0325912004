; Tag query for Rust (Aider repomap capture style).
; @definition.impl marks an impl block: a scope for its functions, not a symbol.

(struct_item
  name: (type_identifier) @name.definition.struct) @definition.struct

(union_item
  name: (type_identifier) @name.definition.struct) @definition.struct

(enum_item
  name: (type_identifier) @name.definition.enum) @definition.enum

(trait_item
  name: (type_identifier) @name.definition.trait) @definition.trait

(type_item
  name: (type_identifier) @name.definition.type) @definition.type

(function_item
  name: (identifier) @name.definition.function) @definition.function

(function_signature_item
  name: (identifier) @name.definition.function) @definition.function

(mod_item
  name: (identifier) @name.definition.module
  body: (declaration_list)) @definition.module

(const_item
  name: (identifier) @name.definition.constant) @definition.constant

(static_item
  name: (identifier) @name.definition.constant) @definition.constant

(impl_item
  type: (_) @name.definition.impl) @definition.impl

; References.

(call_expression
  function: (_) @name.reference.call) @reference.call

(impl_item
  trait: (_) @reference.inherit)

(use_declaration) @reference.import
