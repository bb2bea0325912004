; Tag query for TypeScript and TSX (Aider repomap capture style).

(class_declaration
  name: (type_identifier) @name.definition.class) @definition.class

(abstract_class_declaration
  name: (type_identifier) @name.definition.class) @definition.class

(interface_declaration
  name: (type_identifier) @name.definition.interface) @definition.interface

(type_alias_declaration
  name: (type_identifier) @name.definition.type) @definition.type

(enum_declaration
  name: (identifier) @name.definition.enum) @definition.enum

(internal_module
  name: (_) @name.definition.module) @definition.module

(function_declaration
  name: (identifier) @name.definition.function) @definition.function

(generator_function_declaration
  name: (identifier) @name.definition.function) @definition.function

(method_definition
  name: (_) @name.definition.method) @definition.method

(method_signature
  name: (_) @name.definition.method) @definition.method

(abstract_method_signature
  name: (_) @name.definition.method) @definition.method

(public_field_definition
  name: (property_identifier) @name.definition.method
  value: [(arrow_function) (function_expression) (generator_function)]) @definition.method

(variable_declarator
  name: (identifier) @name.definition.function
  value: [(arrow_function) (function_expression) (generator_function)]) @definition.function

(variable_declarator
  name: (identifier) @name.definition.constant
  (#match? @name.definition.constant "^_*[A-Z][A-Z0-9_]*$")) @definition.constant

; References.

(call_expression
  function: (_) @name.reference.call) @reference.call

(new_expression
  constructor: (_) @name.reference.new) @reference.new

(class_heritage (extends_clause value: (_) @reference.inherit))

(class_heritage (implements_clause (_) @reference.inherit))

(extends_type_clause type: (_) @reference.inherit)

(import_statement) @reference.import

(variable_declarator
  value: (call_expression
    function: (identifier) @_require
    arguments: (arguments . (string)))
  (#eq? @_require "require")) @reference.import
