; Tag query for Go (Aider repomap capture style).

(function_declaration
  name: (identifier) @name.definition.function) @definition.function

(method_declaration
  receiver: (parameter_list) @receiver
  name: (field_identifier) @name.definition.method) @definition.method

(type_spec
  name: (type_identifier) @name.definition.type) @definition.type

(type_alias
  name: (type_identifier) @name.definition.type) @definition.type

(source_file
  (const_declaration
    (const_spec
      name: (identifier) @name.definition.constant) @definition.constant))

; References.

(call_expression
  function: (_) @name.reference.call) @reference.call

(struct_type
  (field_declaration_list
    (field_declaration
      !name
      type: (_) @reference.inherit)))

(import_declaration) @reference.import
